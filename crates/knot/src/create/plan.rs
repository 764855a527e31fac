//! Stage 2: what to make, where, and the target text to store in it.

use super::*;

/// Stage 2: the decided work: what to make, where, and the target text to store in it.
pub(super) struct Plan {
    /// The kind of link to make (for [`LinkType::Best`], the one chosen).
    pub(super) made: LinkType,
    pub(super) stored: PathBuf,
    pub(super) flavour: Flavour,
    pub(super) notes: Vec<Note>,
    /// Where the link is made: which backend, and what it can do there.
    pub(super) place: Place,
    /// Whether it replaces what stands at the link (then it is staged under a hidden name).
    pub(super) replacing: bool,
    /// The target as a path from here, and what it was when planned (the read-back checks
    /// that the link leads there).
    pub(super) target_path: PathBuf,
    pub(super) target_meta: Option<Meta>,
}

impl Plan {
    /// The plan at `place`, where the caller decided it already (for the link's
    /// directory), else at the place decided here.
    pub(super) fn new(asked: &Asked<'_>, probe: &Probe, place: Option<Place>) -> Result<Plan> {
        let (op, link, target) = (asked.ty.op(), asked.link.path, asked.target);
        let place = match place {
            Some(place) => place,
            None => asked
                .link
                .dir
                .place()
                .map_err(|e| write_error(op, link, e).with_target(target))?,
        };
        let refusal = |refused| match refused {
            Refused::Kind(kind) => {
                // A target that is not there: say where it was looked for, since a
                // relative one is read from the link's directory or from the current one,
                // by kind.
                let missing = matches!(kind, ErrorKind::TargetMissing | ErrorKind::FlavourNeeded);
                let looked_for = missing
                    .then(|| real_location(&probe.target_path).ok())
                    .flatten();
                Error::new(op, link, kind)
                    .with_target(target)
                    .with_looked_for(looked_for)
            }
            Refused::LinkDir(err) => write_error(op, link, err).with_target(target),
            Refused::Target(err) => Error::new(op, link, ErrorKind::TargetUnreadable)
                .with_target(target)
                .with_source(err),
        };
        let flavour = flavour(asked, probe, &place).map_err(refusal)?;
        let mut plan = Plan {
            made: asked.ty,
            stored: PathBuf::new(),
            flavour,
            notes: vec![],
            place,
            replacing: probe.replacing,
            target_path: probe.target_path.clone(),
            target_meta: probe.target_meta,
        };
        plan.decide(asked).map_err(refusal)?;
        Ok(plan)
    }

    /// Checks the target against the kind asked for, and decides the kind to make and the
    /// text to store.
    fn decide(&mut self, asked: &Asked<'_>) -> std::result::Result<(), Refused> {
        let (target, target_path) = (asked.target, self.target_path.as_path());
        let target_err = Refused::Target;
        match asked.ty {
            LinkType::Symlink => self.stored = symlink_text(asked)?,
            LinkType::Junction => match self.target_meta.map(|m| m.ty == FileType::Dir) {
                None => return Err(ErrorKind::TargetMissing.into()),
                Some(false) => return Err(ErrorKind::TargetNotDirectory.into()),
                Some(true) => {
                    self.stored = real_location(target_path).map_err(target_err)?;
                    if sys::Os::is_remote(&self.stored) {
                        return Err(ErrorKind::RemoteTarget.into());
                    }
                    match self.place.junctions() {
                        Junctions::Native => {}
                        Junctions::Emulated => {
                            self.made = LinkType::Symlink;
                            self.notes.push(Note::NoJunctions);
                        }
                        Junctions::Refused(why) => {
                            return Err(ErrorKind::Unsupported { why }.into());
                        }
                    }
                }
            },
            LinkType::Hardlink => match self.target_meta.map(|m| m.ty) {
                None => return Err(ErrorKind::TargetMissing.into()),
                Some(FileType::Dir) => return Err(ErrorKind::TargetIsDirectory.into()),
                // ntfs-3g shows a junction as a symlink, and `link(2)` would give the NTFS
                // directory behind it a second name, which NTFS never allows; a Unix
                // symlink stays allowed, as with `ln`.
                Some(FileType::Link) if sys::Os::is_directory_entry(target_path) => {
                    return Err(ErrorKind::TargetIsDirectoryLink.into());
                }
                Some(_) => self.stored = target.to_path_buf(),
            },
            LinkType::Best => match self.target_meta {
                None => return Err(ErrorKind::TargetMissing.into()),
                Some(_) => {
                    self.made = LinkType::Symlink;
                    self.stored = sys::Os::normalise_symlink_target(target).map_err(target_err)?;
                }
            },
        }
        Ok(())
    }
}

/// Why a plan was refused: a kind of its own, or a file-system call that failed (kept,
/// with its cause, for the message).
pub(super) enum Refused {
    Kind(ErrorKind),
    /// Resolving the link's directory failed.
    LinkDir(io::Error),
    /// Resolving the target failed.
    Target(io::Error),
}

impl From<ErrorKind> for Refused {
    fn from(kind: ErrorKind) -> Refused {
        Refused::Kind(kind)
    }
}

/// The flavour to make: the one asked for, checked against a target that exists unless
/// [`FlavourCheck::AsAsked`]; else the target's; for a missing target, asked for where the
/// place keeps a flavour.
fn flavour(
    asked: &Asked<'_>,
    probe: &Probe,
    place: &Place,
) -> std::result::Result<Flavour, Refused> {
    let (options, ty) = (asked.options, asked.ty);
    let target_is_dir = probe.target_meta.map(|m| m.ty == FileType::Dir);
    if let (Some(asked), Some(is_dir)) = (options.flavour, target_is_dir) {
        let found = if is_dir { Flavour::Dir } else { Flavour::File };
        if asked != found
            && ty != LinkType::Hardlink
            && options.flavour_check == FlavourCheck::AgainstTarget
        {
            return Err(ErrorKind::FlavourMismatch { asked, found }.into());
        }
    }
    Ok(match (options.flavour, target_is_dir) {
        (Some(flavour), _) => flavour,
        (None, Some(true)) => Flavour::Dir,
        (None, Some(false)) => Flavour::File,
        (None, None) if place.flavour_matters() && ty == LinkType::Symlink => {
            return Err(ErrorKind::FlavourNeeded.into());
        }
        (None, None) => Flavour::File,
    })
}

/// The text a symlink stores, in the form asked for.
fn symlink_text(asked: &Asked<'_>) -> std::result::Result<PathBuf, Refused> {
    let (link, target) = (asked.link, asked.target);
    match asked.options.form {
        TargetForm::AsGiven => sys::Os::normalise_symlink_target(target).map_err(Refused::Target),
        TargetForm::Absolute => real_location(target).map_err(Refused::Target),
        TargetForm::Relative => {
            let from = link
                .dir
                .real_dir(parent_dir(link.path))
                .map_err(Refused::LinkDir)?;
            let target = real_location(target).map_err(Refused::Target)?;
            Ok(relative_to(&target, &from))
        }
    }
}
