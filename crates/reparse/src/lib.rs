//! knot-reparse: the REPARSE_DATA_BUFFER codec (work in progress).
#![forbid(unsafe_code)]
