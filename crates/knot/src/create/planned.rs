//! A create probed and planned, and how it ends: a dry run, a rewrite in place, or the
//! staged create committed.

use super::*;

/// A create probed and planned, with nothing made yet: the stages up to [`Plan`], for the
/// operations that change an existing link (retarget, convert). Such an operation plans
/// the link anew with [`Replace::Links`], then shows the plan ([`Planned::preview`], a dry
/// run: everything checked, nothing changed), rewrites the link's reparse point in place
/// where the platform can ([`Planned::rewrite`]), or makes the plan and commits it over
/// the link ([`Planned::commit`]), which is what [`create`] does.
pub(crate) struct Planned<'a> {
    pub(super) asked: Asked<'a>,
    pub(super) probe: Probe,
    pub(super) plan: Plan,
}

/// Stages 1 and 2 of [`create`] alone, for the link at `link` (its directory held open):
/// every check a create makes before it makes anything. `hard_target` is a hard link's
/// target where the caller holds it already (`knot apply` reaches it through the
/// directories it holds), else it is opened here from `target`; `place` is how links are
/// made in the link's directory where the caller decided it already, else decided here.
pub(crate) fn plan_at<'a>(
    link: At<'a>,
    target: &'a Path,
    hard_target: Option<At<'a>>,
    ty: LinkType,
    options: &'a CreateOptions,
    place: Option<Place>,
) -> Result<Planned<'a>> {
    let asked = Asked {
        link,
        target,
        hard_target,
        ty,
        options,
        lean: false,
    };
    let probe = Probe::new(&asked, None)?;
    let plan = Plan::new(&asked, &probe, place)?;
    Ok(Planned { asked, probe, plan })
}

/// A new link at `link`, where nothing is expected to stand (`knot apply`'s common case),
/// at `place`, decided by the caller: [`plan_at`] and [`Planned::commit_lean`] without
/// the looks that the create itself makes. The link's name is not looked up beforehand:
/// the create refuses an existing one ([`ErrorKind::LinkExists`], which the caller takes
/// as its cue to look). A symlink's target is not looked up where the place keeps no
/// flavour and none is asked: only its text is stored, and the read-back reads the text
/// (`readlinkat`: one call for the look and the comparison). Every other check, and the
/// read-back of a hard link or a reparse point, is [`Planned::commit_lean`]'s.
pub(crate) fn create_new_lean<'a>(
    link: At<'a>,
    target: &'a Path,
    hard_target: Option<At<'a>>,
    ty: LinkType,
    options: &'a CreateOptions,
    place: Place,
) -> Result<Made> {
    let asked = Asked {
        link,
        target,
        hard_target,
        ty,
        options: &CreateOptions {
            replace: Replace::Never,
            ..*options
        },
        lean: true,
    };
    let probe = Probe::new(&asked, Some(&place))?;
    let plan = Plan::new(&asked, &probe, Some(place))?;
    let planned = Planned { asked, probe, plan };
    let op = ty.op();
    match Staged::make(&planned) {
        Ok(staged) => staged.commit_lean().map_err(|err| {
            Error::io_or_read_back(op, link.path, err, &planned.plan.stored).with_target(target)
        })?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(Error::new(op, link.path, ErrorKind::LinkExists).with_target(target));
        }
        Err(e) => return Err(write_error(op, link.path, e).with_target(target)),
    }
    Ok(Made::of(planned.plan.made))
}

impl Planned<'_> {
    /// The kind of link the plan makes, as [`inspect`] would report it.
    pub(crate) fn made_kind(&self) -> crate::link::Kind {
        match self.plan.made {
            LinkType::Junction => crate::link::Kind::Junction,
            LinkType::Hardlink => crate::link::Kind::Hardlink,
            LinkType::Symlink | LinkType::Best => crate::link::Kind::Symlink,
        }
    }

    /// What the place can do with junctions (native, emulated by a symlink, refused).
    pub(crate) fn junctions(&self) -> Junctions {
        self.plan.place.junctions()
    }

    pub(super) fn fail(&self, err: io::Error) -> Error {
        write_error(self.asked.ty.op(), self.asked.link.path, err).with_target(self.asked.target)
    }

    /// The hard link's target, held: handed in, or opened by the probe.
    /// What making the link would meet that a plan does not look at, asked without
    /// changing anything, for a dry run to refuse what the real run would: this process
    /// may not change the link's directory, its file system is read-only, or a hard link's
    /// target is on another file system.
    pub(crate) fn may_make(&self) -> Result<()> {
        let (op, at) = (self.asked.ty.op(), self.asked.link);
        let fail = |e| write_error(op, at.path, e).with_target(self.asked.target);
        at.dir.may_change().map_err(fail)?;
        if self.plan.made == LinkType::Hardlink
            && let (Some(target), Ok(dir)) = (self.probe.target_meta, at.dir.meta())
            && target.id.0 != dir.id.0
        {
            let err = Error::new(op, at.path, ErrorKind::CrossDevice);
            return Err(err.with_target(self.asked.target));
        }
        Ok(())
    }

    pub(super) fn hard_target(&self) -> Option<At<'_>> {
        self.asked.hard_target.or_else(|| self.probe.hard_target())
    }

    /// The reparse buffer the plan writes, where knot writes it itself (Windows junctions,
    /// links on ntfs-3g): encoded and checked (on ntfs-3g, against what Windows can read),
    /// written nowhere.
    pub(super) fn buffer(&self) -> Result<Written> {
        let request = sys::Request {
            at: self.asked.link,
            target: &self.plan.stored,
            given: self.asked.target,
            flavour: self.plan.flavour,
            drive: self.asked.options.drive.map(DriveLetter::letter),
        };
        match self.plan.made {
            LinkType::Hardlink => Ok(None),
            made => self
                .plan
                .place
                .encode(&request, made == LinkType::Junction)
                .map_err(|e| self.fail(e)),
        }
    }

    /// Whether the link `found`, read at the plan's link, is the link the plan would make:
    /// of the kind planned, holding byte for byte the reparse buffer it would write, and
    /// of its flavour where the place keeps one. Only where knot writes the buffer itself
    /// (links on ntfs-3g, Windows junctions), where two targets in different forms (`../x`
    /// and `..\x` on ntfs-3g) can make the same link; elsewhere `false`, and the caller
    /// compares what the link stores.
    ///
    /// # Errors
    /// Those of encoding the buffer: a target the place refuses, refused as the create
    /// would refuse it.
    pub(crate) fn would_make(&self, found: &Link) -> Result<bool> {
        let Some(buffer) = self.buffer()? else {
            return Ok(false);
        };
        let flavour = !self.plan.place.flavour_matters() || found.dir == Some(self.plan.flavour);
        Ok(found.kind == self.made_kind()
            && found.reparse_data.as_deref() == Some(buffer.as_slice())
            && flavour)
    }

    /// The link as the plan would leave it, from `before`, the link that stands there: a
    /// dry run's answer. Everything a create checks before it makes anything is checked
    /// (the buffer too, where knot writes one).
    pub(crate) fn preview(&self, before: &Link) -> Result<Link> {
        let buffer = self.buffer()?;
        let mut link = Link::new(before.path.clone(), self.made_kind());
        link.dir = before.dir;
        link.target = Some(self.plan.stored.clone());
        link.relative = Some(self.plan.stored.is_relative());
        if let Some(raw) = buffer {
            sys::fill_reparse(&mut link, raw);
        }
        let target_path = &self.probe.target_path;
        (link.status, link.resolved) = match self.probe.target_meta {
            Some(_) => (
                Some(crate::link::Status::Ok),
                crate::resolve::canonical(target_path).ok(),
            ),
            None => (
                Some(crate::link::Status::Dangling),
                crate::resolve::real_location(target_path).ok(),
            ),
        };
        Ok(link)
    }

    /// What [`Planned::commit`] would report, with nothing made: [`create_dry_run`]'s
    /// answer. A symlink or junction is [`Planned::preview`]ed as a new link; a hard link
    /// is the target's file with one more name.
    pub(super) fn would_create(&self) -> Result<Created> {
        self.may_make()?;
        let path = self.asked.link.path.to_path_buf();
        let link = match self.plan.made {
            LinkType::Hardlink => {
                let op = self.asked.ty.op();
                let found = match self.hard_target() {
                    Some(at) => inspect_at(at),
                    None => inspect(&self.probe.target_path),
                };
                let mut link = found.map_err(|e| e.with_op(op).with_target(self.asked.target))?;
                link.path = path;
                link.nlink = link.nlink.map(|n| n + 1);
                if link.kind == crate::link::Kind::File {
                    link.kind = crate::link::Kind::Hardlink;
                }
                link
            }
            _ => {
                // What `inspect` reads back: the flavour where the place stores one (Windows
                // reads it), else what the target is, and nothing for a dangling link.
                let mut new = Link::new(path, self.made_kind());
                new.dir = if self.plan.place.flavour_matters() {
                    Some(self.plan.flavour)
                } else {
                    self.probe
                        .target_meta
                        .map(|m| Flavour::of(m.ty == FileType::Dir))
                };
                let mut link = self.preview(&new)?;
                link.nlink = Some(1);
                link
            }
        };
        let mut notes = self.plan.notes.clone();
        if self.plan.replacing && self.probe.existing.is_some() {
            notes.push(Note::Replaced);
        }
        Ok(Created {
            link,
            made: Made::of(self.plan.made),
            notes,
        })
    }

    /// Writes the plan's reparse buffer over the existing link's, in place on the same
    /// file (Windows junctions, links on ntfs-3g: see each backend's `rewrite`), and reads
    /// the link back. The plan comes back, with nothing done, where the link is not a
    /// reparse point knot writes: [`Planned::commit`] replaces it instead.
    pub(crate) fn rewrite(self) -> Result<std::result::Result<Created, Self>> {
        let Some(buffer) = self.buffer()? else {
            return Ok(Err(self));
        };
        let Asked { link, target, .. } = self.asked;
        let op = self.asked.ty.op();
        let checked = self
            .plan
            .place
            .rewrite(link, &buffer)
            .and_then(|()| {
                let meta = looked_at(link, &self.plan.stored)?;
                check_made(&self.plan, link, meta, None, Some(&buffer)).map_err(io::Error::from)
            })
            .and_then(|()| inspect_at(link).map_err(io::Error::from));
        let record = checked.map_err(|e| {
            Error::io_or_read_back(op, link.path, e, &self.plan.stored).with_target(target)
        })?;
        Ok(Ok(Created {
            link: record,
            made: Made::of(self.plan.made),
            notes: self.plan.notes,
        }))
    }

    /// Stages 3 and 4: makes the link as planned and commits it (over the existing link,
    /// when it replaces one).
    pub(crate) fn commit(self) -> Result<Created> {
        let (asked, op) = (self.asked, self.asked.ty.op());
        let staged = match Staged::make(&self) {
            Ok(staged) => staged,
            // `knot link` without the symlink privilege (Windows without Developer Mode or
            // elevation): the next best kind, which needs none, and a note saying so.
            Err(e)
                if asked.ty == LinkType::Best
                    && sys::Os::os_error_kind(&e) == Some(sys::OsError::PrivilegeNeeded) =>
            {
                let next = if self.plan.flavour == Flavour::Dir {
                    LinkType::Junction
                } else {
                    LinkType::Hardlink
                };
                let target = &self.probe.target_path;
                let mut created = plan_at(asked.link, target, None, next, asked.options, None)
                    .and_then(Planned::commit)
                    .map_err(|e| e.with_op(op))?;
                created.notes.insert(0, Note::NoSymlinkPrivilege);
                return Ok(created);
            }
            Err(e) => return Err(write_error(op, asked.link.path, e).with_target(asked.target)),
        };
        let record = staged.commit().map_err(|err| {
            Error::io_or_read_back(op, asked.link.path, err, &self.plan.stored)
                .with_target(asked.target)
        })?;
        let mut notes = self.plan.notes.clone();
        if record.status == Some(crate::link::Status::Unreadable)
            && sys::Os::stat(asked.link.path)
                .is_err_and(|e| sys::Os::os_error_kind(&e) == Some(sys::OsError::SymlinkEvaluation))
        {
            notes.push(Note::SymlinkEvaluation);
        }
        if self.plan.replacing && self.probe.existing.is_some() {
            notes.push(Note::Replaced);
        }
        Ok(Created {
            link: record,
            made: Made::of(self.plan.made),
            notes,
        })
    }

    /// [`Planned::commit`] for work over many links (`knot apply`): the same stages and
    /// read-back check (DESIGN.md promise 3), without reading a whole record of the new
    /// link, which the caller does not need. Returns the kind made. There is no next best
    /// kind to fall back to: the caller asks for a concrete one.
    pub(crate) fn commit_lean(self) -> Result<Made> {
        let (asked, op) = (self.asked, self.asked.ty.op());
        let staged = Staged::make(&self)
            .map_err(|e| write_error(op, asked.link.path, e).with_target(asked.target))?;
        staged.commit_lean().map_err(|err| {
            Error::io_or_read_back(op, asked.link.path, err, &self.plan.stored)
                .with_target(asked.target)
        })?;
        Ok(Made::of(self.plan.made))
    }
}

/// What was asked for: the arguments of [`create`].
#[derive(Clone, Copy)]
pub(super) struct Asked<'a> {
    /// Where the link goes: its directory, held, and its name.
    pub(super) link: At<'a>,
    pub(super) target: &'a Path,
    /// A hard link's target, where the caller holds it already.
    pub(super) hard_target: Option<At<'a>>,
    pub(super) ty: LinkType,
    pub(super) options: &'a CreateOptions,
    /// Only the looks the create itself does not make ([`create_new_lean`]).
    pub(super) lean: bool,
}
