//! Stages 3 and 4: the link made under its final or a hidden name, read back, and put in
//! place; taken back, and only what was made, if dropped uncommitted.

use super::*;

/// Stage 3: a link made as planned, under the link's own name or, when it replaces what
/// is there, under a fresh hidden name beside it, in the link's held directory. Dropped
/// without [`Staged::commit`], it takes back what it made, and only that: the entry at its
/// name is removed only while it is still the one the read-back saw (device and inode) and
/// still holds what this process wrote (its target, its reparse buffer, or for a hard link
/// the target's file), so a link another process put there meanwhile (a racing create or
/// `--force`) is never removed.
pub(super) struct Staged<'p> {
    pub(super) planned: &'p Planned<'p>,
    /// Where it was made: the link's name, or a hidden one beside it.
    pub(super) name: std::ffi::OsString,
    /// Its path, for messages.
    pub(super) path: PathBuf,
    /// The reparse buffer written, where the link is one.
    pub(super) written: Written,
    /// What the read-back found at the name: the entry this process made.
    pub(super) made_id: std::cell::Cell<Option<(u64, u128)>>,
    pub(super) committed: bool,
}

impl<'p> Staged<'p> {
    /// Makes the link. A hidden name that another entry holds is drawn again: a clash is
    /// never the link's error.
    pub(super) fn make(planned: &'p Planned<'p>) -> io::Result<Staged<'p>> {
        let (link, plan) = (planned.asked.link, &planned.plan);
        let mut tries = 0;
        loop {
            let name = if plan.replacing {
                hidden_file_name(link.name)
            } else {
                link.name.to_owned()
            };
            let path = parent_dir(link.path).join(&name);
            let request = sys::Request {
                at: At::new(link.dir, &name, &path),
                target: &plan.stored,
                given: planned.asked.target,
                flavour: plan.flavour,
                drive: planned.asked.options.drive.map(DriveLetter::letter),
            };
            match make(plan, planned.hard_target(), &request) {
                Ok(written) => {
                    return Ok(Staged {
                        planned,
                        name,
                        path,
                        written,
                        made_id: std::cell::Cell::new(None),
                        committed: false,
                    });
                }
                Err(e)
                    if plan.replacing && e.kind() == io::ErrorKind::AlreadyExists && tries < 8 =>
                {
                    tries += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Where the link was made.
    pub(super) fn at(&self) -> At<'_> {
        At::new(self.planned.asked.link.dir, &self.name, &self.path)
    }

    /// Stage 4: reads the link back (DESIGN.md promise 3) and puts it in place. The record
    /// is read before the link is put in place: once there, another program (a racing
    /// `--force`) may replace it at once, and a link that was made is never reported as a
    /// failure.
    pub(super) fn commit(mut self) -> io::Result<Link> {
        self.verify()?;
        let mut record = inspect_at(self.at())?;
        self.put_in_place()?;
        record.path = self.planned.asked.link.path.to_path_buf();
        Ok(record)
    }

    /// [`Staged::commit`] without the record: the read-back check, then in place.
    pub(super) fn commit_lean(mut self) -> io::Result<()> {
        self.verify()?;
        self.put_in_place()
    }

    pub(super) fn verify(&self) -> std::result::Result<(), ReadBack> {
        let at = self.at();
        let plan = &self.planned.plan;
        if self.planned.asked.lean && plan.made != LinkType::Hardlink && plan.target_meta.is_none()
        {
            return check_text(plan, at, self.written.as_deref());
        }
        let meta = looked_at(at, &self.planned.plan.stored)?;
        self.made_id.set(Some(meta.id));
        check_made(
            &self.planned.plan,
            at,
            meta,
            self.planned.hard_target(),
            self.written.as_deref(),
        )
    }

    pub(super) fn put_in_place(&mut self) -> io::Result<()> {
        if self.planned.plan.replacing {
            let link = self.planned.asked.link;
            link.dir.rename_over_at(&self.name, link.name, link.path)?;
        }
        self.committed = true;
        Ok(())
    }

    /// Whether the entry at `at` still holds what this process made there.
    pub(super) fn holds_what_was_made(&self, at: At<'_>, meta: &Meta) -> bool {
        if self.made_id.get().is_some_and(|id| id != meta.id) {
            return false;
        }
        let plan = &self.planned.plan;
        match plan.made {
            LinkType::Hardlink => {
                let target = match self.planned.hard_target() {
                    Some(target) => target.lstat(),
                    None => sys::Os::lstat(&plan.target_path),
                };
                target.is_ok_and(|t| t.id == meta.id)
            }
            _ if meta.ty != FileType::Link => false,
            _ => at.read_link().is_ok_and(|found| match &self.written {
                Some(written) => found.reparse.is_some_and(|r| &r.raw == written),
                None => found.target == plan.stored,
            }),
        }
    }
}

impl Drop for Staged<'_> {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        // All or nothing: putting the link in place is the last step, so it is still at
        // its name; only what this process made is removed there.
        let at = self.at();
        let Ok(meta) = at.lstat() else {
            return;
        };
        if !self.holds_what_was_made(at, &meta) {
            return;
        }
        let _ = match self.planned.plan.made {
            LinkType::Hardlink => at.dir.remove_name_at(at.name),
            _ => at.dir.remove_link_at(at.name, at.path),
        };
    }
}

pub(super) fn make(
    plan: &Plan,
    hard_target: Option<At<'_>>,
    request: &sys::Request<'_>,
) -> io::Result<Written> {
    let at = request.at;
    match (plan.made, hard_target) {
        (LinkType::Symlink | LinkType::Best, _) => sys::symlink(&plan.place, request),
        (LinkType::Junction, _) => sys::junction(&plan.place, request),
        (LinkType::Hardlink, Some(target)) => at
            .dir
            .hard_link_at(at.name, target.dir, target.name)
            .map(|()| None),
        // The target names no entry of its own (`/`, `..`): refused in the plan.
        (LinkType::Hardlink, None) => Err(io::ErrorKind::InvalidInput.into()),
    }
}

/// The read-back's first look at the entry `at` that was just made: what stands there.
pub(super) fn looked_at(at: At<'_>, stored: &Path) -> std::result::Result<Meta, ReadBack> {
    match at.lstat() {
        Ok(meta) => Ok(meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(ReadBack::Mismatch {
            expected: format!("{:?}", stored.display().to_string()),
            found: "nothing".into(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// [`check_made`] of a symlink or reparse point whose target was not looked at: what `at`
/// stores, read in one call (`readlinkat`, which fails on anything that is no link), is
/// what was written.
pub(super) fn check_text(
    plan: &Plan,
    at: At<'_>,
    written: Option<&[u8]>,
) -> std::result::Result<(), ReadBack> {
    let mismatch = |found: String| {
        Err(ReadBack::Mismatch {
            expected: format!("{:?}", plan.stored.display().to_string()),
            found,
        })
    };
    let found = match at.read_link() {
        Ok(found) => found,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return mismatch("nothing".into()),
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
            return mismatch("something that is not a link".into());
        }
        Err(e) => return Err(e.into()),
    };
    match (written, &found.reparse) {
        (Some(written), Some(reparse)) if reparse.raw == written => Ok(()),
        (Some(_), _) => mismatch("another reparse buffer".into()),
        (None, _) if found.target == plan.stored => Ok(()),
        (None, _) => mismatch(format!("{:?}", found.target.display().to_string())),
    }
}

/// Reads the new link back (DESIGN.md promise 3): some systems report success and make
/// nothing. `meta` is what stands at `at` ([`looked_at`]). A reparse point must hold
/// exactly the buffer written; another link, the target text planned. A link to a target
/// that exists must also lead to it (what the target led to when planned): a reparse point
/// can hold the buffer asked for and still be read as another path. A hard link must be a
/// name of the target's file. A mismatch says what was asked and what was found.
pub(super) fn check_made(
    plan: &Plan,
    at: At<'_>,
    meta: Meta,
    hard_target: Option<At<'_>>,
    written: Option<&[u8]>,
) -> std::result::Result<(), ReadBack> {
    let stored = &plan.stored;
    let mismatch = |found: String| {
        Err(ReadBack::Mismatch {
            expected: format!("{:?}", stored.display().to_string()),
            found,
        })
    };
    match plan.made {
        LinkType::Hardlink => {
            let target = match hard_target {
                Some(target) => target.lstat()?,
                None => sys::Os::lstat(&plan.target_path)?,
            };
            if meta.id != target.id {
                return mismatch("another file".into());
            }
        }
        _ => {
            if meta.ty != FileType::Link {
                return mismatch("something that is not a link".into());
            }
            let found = at.read_link()?;
            match (written, &found.reparse) {
                (Some(written), Some(reparse)) if reparse.raw == written => {}
                (Some(_), _) => return mismatch("another reparse buffer".into()),
                (None, _) if found.target == *stored => {}
                (None, _) => {
                    let text = found.target.display().to_string();
                    return mismatch(format!("{text:?}"));
                }
            }
            if let Some(target) = plan.target_meta
                && !leads_to_target(at, target.id)
            {
                let read = found.leads_to.as_ref().unwrap_or(&found.target);
                return mismatch(format!(
                    "{:?}, which does not lead to the target",
                    read.display().to_string()
                ));
            }
        }
    }
    Ok(())
}

/// Whether the new link `at`, whose text or buffer read back as written, leads to the file
/// `id`. Where Windows' SymlinkEvaluation policy forbids following it here
/// (ERROR_SYMLINK_CLASS_DISABLED: a symlink made on a network share, with the default
/// policy), nothing can be followed to compare: the read-back of what it holds stands, and
/// the create says so in a note ([`Note::SymlinkEvaluation`]).
fn leads_to_target(at: At<'_>, id: (u64, u128)) -> bool {
    match at.stat() {
        Ok(meta) => meta.id == id,
        Err(e) => sys::Os::os_error_kind(&e) == Some(sys::OsError::SymlinkEvaluation),
    }
}
