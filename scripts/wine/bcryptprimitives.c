/*
 * bcryptprimitives.dll for Wine 8.0, which lacks it.
 *
 * Rust's standard library (1.78 and later) imports ProcessPrng from
 * bcryptprimitives.dll on Windows; Wine 8.0 has no such DLL, so every Rust program
 * fails to load there. This DLL, placed beside the executable, exports ProcessPrng
 * and fills the buffer with RtlGenRandom (advapi32's SystemFunction036), which Wine
 * implements. It is used only to run knot's tests under Wine (scripts/test-windows.sh);
 * real Windows has its own bcryptprimitives.dll.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c
 *        bcryptprimitives.def -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* BOOL ProcessPrng(PBYTE pbData, SIZE_T cbData): always TRUE on Windows. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
