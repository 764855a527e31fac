//! Stage 1: what stands at the link, and what the target is.

use super::*;

/// Stage 1: what stands at the link, and what the target is, seen from where it will be
/// resolved; refuses what can never be made (an existing entry that may not be replaced).
pub(super) struct Probe {
    /// What is at the link now.
    pub(super) existing: Option<Meta>,
    /// Whether the new link replaces what is there (`--force`): then it is made under a
    /// hidden name and put in place.
    pub(super) replacing: bool,
    /// The target as a path from here: joined to the link's directory for a symlink stored
    /// as given, as given otherwise.
    pub(super) target_path: PathBuf,
    /// What the target is (for a hard link, the entry itself; else where it leads).
    pub(super) target_meta: Option<Meta>,
    /// A hard link's target, opened into its directory, held, and its name, where the
    /// caller did not hand one in: the link is made from it, never by its path again.
    pub(super) target_dir: Option<(sys::Dir, std::ffi::OsString)>,
}

impl Probe {
    /// The probe; `place`, where the caller decided it already, lets a lean create
    /// ([`create_new_lean`]) pass over a target whose flavour does not matter there.
    pub(super) fn new(asked: &Asked<'_>, place: Option<&Place>) -> Result<Probe> {
        let Asked {
            link: at,
            target,
            ty,
            options,
            lean,
            ..
        } = *asked;
        let (op, link) = (ty.op(), at.path);
        let fail = |kind| Error::new(op, link, kind).with_target(target);
        if link.file_name().is_none() {
            return Err(fail(ErrorKind::BadLinkPath));
        }
        // `J/` names what `J` leads to: refused on every platform and for every kind,
        // before anything is looked at, so nothing is made through a link.
        if ends_in_separator(link) {
            return Err(fail(ErrorKind::LinkEndsInSeparator));
        }
        // A lean create does not look: the create refuses an existing name itself.
        let existing = match (!lean).then(|| at.lstat()) {
            None => None,
            Some(Ok(meta)) => Some(meta),
            Some(Err(e)) if e.kind() == io::ErrorKind::NotFound => None,
            Some(Err(e)) => return Err(write_error(op, link, e).with_target(target)),
        };
        // Only a link is ever replaced: not a file whose data sits behind a reparse
        // point, which Windows and ntfs-3g list among links (the same rule as `knot
        // rm`'s). With `--force` the new link is always made beside the name and then put
        // in its place, even where nothing stands yet: a link made straight at the name
        // would be, for a moment, an empty file or directory on ntfs-3g, which a racing
        // `--force` must take for a real one.
        let replacing = options.replace == Replace::Links && existing.is_none_or(|m| m.is_link());

        let (target_path, target_meta, target_dir) = probe_target(asked, place)?;

        if let Some(meta) = existing
            && !replacing
        {
            if target_meta.is_none() {
                return Err(fail(ErrorKind::ArgumentsSwapped));
            }
            return Err(fail(match (options.replace, meta.ty) {
                (Replace::Never, _) => ErrorKind::LinkExists,
                (Replace::Links, FileType::Dir) => ErrorKind::WouldReplaceReal { what: Found::Dir },
                (Replace::Links, FileType::File) => {
                    ErrorKind::WouldReplaceReal { what: Found::File }
                }
                (Replace::Links, FileType::Link) => ErrorKind::WouldReplaceReal {
                    what: Found::ReparseFile,
                },
                (Replace::Links, FileType::Other) => ErrorKind::WouldReplaceReal {
                    what: Found::Special(None),
                },
            }));
        }
        Ok(Probe {
            existing,
            replacing,
            target_path,
            target_meta,
            target_dir,
        })
    }

    /// The hard link's target the probe opened, held.
    pub(super) fn hard_target(&self) -> Option<At<'_>> {
        let (dir, name) = self.target_dir.as_ref()?;
        Some(At::new(dir, name, &self.target_path))
    }
}

/// The entry `path` names, opened into its directory, held, and its name; `None` where the
/// path names no entry of its own (`/`, `..`, or on Unix a trailing slash, which leads
/// through a link): those are looked at by their path, and a hard link to them refused.
pub(super) fn hold_entry(path: &Path) -> Option<io::Result<(sys::Dir, std::ffi::OsString)>> {
    let (parent, name) = crate::resolve::entry_of(path)?;
    Some(sys::Dir::hold(parent).map(|dir| (dir, name.to_owned())))
}

/// Where the target is, seen from where it will be resolved (joined to the link's
/// directory for a symlink stored as given, as given otherwise); what it is (for a hard
/// link the entry itself, held open; else where it leads, a relative target from the
/// link's own directory, as the system will follow it); and the hard link's target, held.
type Target = (
    PathBuf,
    Option<Meta>,
    Option<(sys::Dir, std::ffi::OsString)>,
);

/// The target half of [`Probe::new`].
fn probe_target(asked: &Asked<'_>, place: Option<&Place>) -> Result<Target> {
    let Asked {
        link: at,
        target,
        hard_target,
        ty,
        options,
        lean,
    } = *asked;
    let (op, link) = (ty.op(), at.path);
    let seen_from_link = matches!(ty, LinkType::Best)
        || (ty == LinkType::Symlink && options.form == TargetForm::AsGiven);
    let target_path = if seen_from_link {
        resolve_against_link(link, target)
    } else {
        target.to_path_buf()
    };
    // A hard link is made to the entry itself, held open; the others lead through it,
    // a relative target from the link's own directory, as the system will follow it.
    let mut target_dir = None;
    // Only the text is stored, and the read-back reads the text.
    let text_only = lean
        && ty == LinkType::Symlink
        && options.flavour.is_none()
        && place.is_some_and(|place| !place.flavour_matters());
    let found = match (ty, hard_target) {
        _ if text_only => Err(io::ErrorKind::NotFound.into()),
        (LinkType::Hardlink, Some(held)) => held.lstat(),
        (LinkType::Hardlink, None) => match hold_entry(&target_path) {
            Some(Ok(held)) => {
                let meta = held.0.stat_at(&held.1, false);
                target_dir = Some(held);
                meta
            }
            Some(Err(e)) => Err(e),
            None => sys::Os::lstat(&target_path),
        },
        _ if seen_from_link && target.is_relative() => at.dir.stat_at(target.as_os_str(), true),
        _ => sys::Os::stat(&target_path),
    };
    let target_meta = match found {
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) if sys::Os::classify_resolve_error(&e).is_broken() => None,
        // A symlink may lead where this user cannot look (like `ln -s`): its flavour
        // is then asked for where it matters, as for a missing target.
        Err(_) if ty == LinkType::Symlink => None,
        Err(e) => {
            let err = Error::new(op, link, ErrorKind::TargetUnreadable).with_target(target);
            return Err(err.with_source(e));
        }
    };
    Ok((target_path, target_meta, target_dir))
}
