//! Bulk hotlists through the engine: an Administrator at a station publishes
//! a new version (signed by the station, audited), or asks what publishing
//! would change (a dry run); any trained user may see which versions this
//! node holds. And the fleet's local list: entries people add, edit and
//! take off (wildcards among them, bounded fleet-wide).

use alpr_protocol::hotlist::{self, ENTRIES_MAX, Entry, HotlistVersion};
use alpr_protocol::{Action, Outcome, PlatePattern, PlateText, Role, Timestamp};

use super::{AccessError, Engine, SessionToken};
use crate::hotlist::{ListDiff, LocalEdit};
use crate::matching::{WILDCARD_ENTRIES_MAX, WILDCARD_STARS_MAX};
use crate::policy::{LocalEntry, Permission, UserRole};
use crate::store::{Effect, HeldList};

/// Entries of each kind a dry run shows.
pub const DIFF_SAMPLE_MAX: usize = 20;
/// Fewest fixed characters a wildcard entry holds: a shorter pattern
/// matches a large share of all plates and would bury real hits.
pub const WILDCARD_FIXED_MIN: usize = 3;

impl Engine {
    /// Holds part of a list too large for one request until
    /// [`Engine::publish_hotlist`] of the same list in this session
    /// publishes it whole. Checked as a publish is (role, station, name,
    /// every entry); staging another list drops what was staged before.
    pub fn stage_hotlist(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        list: &str,
        entries: Vec<Entry>,
    ) -> Result<(), AccessError> {
        let object = format!("hotlist '{list}': stage {} entries", entries.len());
        let actor = self.check_publishable(now, token, list, &entries, &object)?;
        // Parts of sessions that ended without a logout (a killed client, an
        // idle lock) are dropped here, so they cannot hold memory or the
        // limit for the next Administrator.
        let idle = i64::from(self.policy.limits.idle_lock_minutes) * super::MINUTE_MS;
        let sessions = &self.sessions;
        self.staged.retain(|t, _| {
            *t == token
                || sessions
                    .get(t)
                    .is_some_and(|s| now.as_millis() - s.last_active.as_millis() <= idle)
        });
        let elsewhere: usize = self
            .staged
            .iter()
            .filter(|(t, _)| **t != token)
            .map(|(_, (_, e))| e.len())
            .sum();
        let slot = self
            .staged
            .entry(token)
            .or_insert_with(|| (list.to_string(), Vec::new()));
        if slot.0 != list {
            *slot = (list.to_string(), Vec::new());
        }
        if (elsewhere + slot.1.len() + entries.len()) as u64 > ENTRIES_MAX {
            self.staged.remove(&token);
            let err =
                AccessError::Invalid(format!("a list may hold at most {ENTRIES_MAX} entries"));
            return self.refuse(now, &actor, Action::EditHotlist, object, None, err);
        }
        slot.1.extend(entries);
        Ok(())
    }

    /// What publishing (or staging part of) a list requires: an
    /// Administrator, at a station, a valid name, at most `ENTRIES_MAX`
    /// entries each within bounds. Refusals are documented; returns the actor.
    fn check_publishable(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        list: &str,
        entries: &[Entry],
        object: &str,
    ) -> Result<String, AccessError> {
        let (actor, _) = self.authorize(
            now,
            token,
            Permission::AdministerHotlists,
            "publish a hotlist",
            Action::EditHotlist,
            object,
        )?;
        let me = self.node.certificate.certificate().clone();
        let problem = if me.role != Role::Station {
            Some(format!(
                "hotlists are published at a station; {} is a vehicle and receives them from peers",
                me.name
            ))
        } else if let Err(e) = hotlist::check_name(list) {
            Some(e.to_string())
        } else if entries.len() as u64 > ENTRIES_MAX {
            Some(format!("a list may hold at most {ENTRIES_MAX} entries"))
        } else {
            entries
                .iter()
                .find_map(|e| hotlist::check_entry(e).err())
                .map(|e| e.to_string())
        };
        match problem {
            None => Ok(actor),
            Some(why) => self.refuse(
                now,
                &actor,
                Action::EditHotlist,
                object.to_string(),
                None,
                AccessError::Invalid(why),
            ),
        }
    }

    /// Publishes `entries` as the next version of `list` (Administrators, at
    /// a station: cars pass lists on but never author them).
    /// Content identical to the version held makes no new version: the
    /// held one is returned (and the attempt audited), so re-importing an
    /// unchanged extract sends nothing to peers.
    pub fn publish_hotlist(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        list: &str,
        entries: Vec<Entry>,
    ) -> Result<HotlistVersion, AccessError> {
        let entries = self.with_staged(token, list, entries);
        let object = format!("hotlist '{list}': {} entries", entries.len());
        let actor = self.check_publishable(now, token, list, &entries, &object)?;
        let entries = hotlist::canonical(entries);
        let held = self.node.store.hotlists()?;
        let content = hotlist::content_hash(&entries);
        if let Some(h) = held.get(list)
            && h.head.content == content
            && h.entries == entries.len() as u64
        {
            let current = h
                .signed
                .decode()
                .map_err(|e| AccessError::Invalid(e.to_string()))?;
            let object = format!(
                "hotlist '{list}': {} entries, unchanged from version {}: nothing published",
                entries.len(),
                current.version
            );
            self.audit(
                now,
                &actor,
                Action::EditHotlist,
                object,
                None,
                Outcome::Success,
                &[],
            )?;
            return Ok(current);
        }
        let version = HotlistVersion {
            list: list.to_string(),
            version: held.get(list).map_or(1, |h| h.head.version + 1),
            entries: entries.len() as u64,
            content,
            published_at: now,
            author: self.node.node_key.id(),
        };
        let signed = version
            .sign(&self.node.node_key)
            .map_err(|e| AccessError::Invalid(e.to_string()))?;
        let object = format!(
            "hotlist '{list}' version {}: {} entries, content {}",
            version.version,
            version.entries,
            hex::encode(&version.content[..8])
        );
        self.audit(
            now,
            &actor,
            Action::EditHotlist,
            object,
            None,
            Outcome::Success,
            &[Effect::Hotlist {
                signed: &signed,
                version: &version,
                entries: &entries,
            }],
        )?;
        // What the version added is looked up among stored reads now (retro-hits).
        self.refresh_matcher(now)?;
        Ok(version)
    }

    /// What publishing `entries` (with those staged for `list` in this
    /// session) would change in the list's version held here; publishes
    /// nothing. Checked as a publish is, and audited.
    pub fn diff_hotlist(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        list: &str,
        entries: Vec<Entry>,
    ) -> Result<ListDiff, AccessError> {
        let entries = self.with_staged(token, list, entries);
        let object = format!("hotlist '{list}': dry run of {} entries", entries.len());
        let actor = self.check_publishable(now, token, list, &entries, &object)?;
        let entries = hotlist::canonical(entries);
        let held = self.node.store.hotlists()?;
        let (base, old) = match held.get(list) {
            None => (None, Vec::new()),
            Some(h) => {
                let version = h
                    .signed
                    .decode()
                    .map_err(|e| AccessError::Invalid(e.to_string()))?;
                // The head's entries are always kept (a list without them
                // is damage, which `verify` reports).
                let old = self
                    .node
                    .store
                    .hotlist_entries(&h.head.content)?
                    .ok_or_else(|| {
                        AccessError::Invalid(format!(
                            "hotlist '{list}' version {}: its entries are missing here",
                            version.version
                        ))
                    })?;
                (Some(version), old)
            }
        };
        let diff = crate::hotlist::diff(&old, &entries, DIFF_SAMPLE_MAX);
        let object = format!(
            "hotlist '{list}': dry run of {} entries against {}: {} added, {} removed, {} changed; nothing published",
            entries.len(),
            base.as_ref().map_or("no version".to_string(), |v| format!(
                "version {}",
                v.version
            )),
            diff.added,
            diff.removed,
            diff.changed
        );
        self.audit(
            now,
            &actor,
            Action::EditHotlist,
            object,
            None,
            Outcome::Success,
            &[],
        )?;
        Ok(ListDiff {
            list: list.to_string(),
            base,
            entries: entries.len() as u64,
            diff,
        })
    }

    /// `entries` after those staged for `list` in this session (which are
    /// taken); parts staged for another list are dropped.
    fn with_staged(&mut self, token: SessionToken, list: &str, entries: Vec<Entry>) -> Vec<Entry> {
        match self.staged.remove(&token) {
            Some((staged_list, mut staged)) if staged_list == list => {
                staged.extend(entries);
                staged
            }
            _ => entries,
        }
    }

    /// The hotlist versions this node holds.
    pub fn hotlists(
        &mut self,
        now: Timestamp,
        token: SessionToken,
    ) -> Result<Vec<(HeldList, HotlistVersion)>, AccessError> {
        self.authorize_view(
            now,
            token,
            Permission::ViewHotlists,
            "see hotlists",
            "hotlist versions",
        )?;
        let mut out = Vec::new();
        for (_, held) in self.node.store.hotlists()? {
            let version = held
                .signed
                .decode()
                .map_err(|e| AccessError::Invalid(e.to_string()))?;
            out.push((held, version));
        }
        Ok(out)
    }
}

impl Engine {
    /// Puts a plate on the fleet's local hotlist (any user but an Auditor,
    /// at any node: a car's officer adds a BOLO). Returns its id.
    pub fn add_hotlist_entry(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        entry: Entry,
    ) -> Result<u64, AccessError> {
        self.add_local(now, token, entry, None)
    }

    /// Puts a wildcard entry on the local hotlist: `pattern` (`?` one
    /// character, `*` any run, at most [`WILDCARD_STARS_MAX`] of them, at
    /// least `WILDCARD_FIXED_MIN` fixed characters) with `entry`'s other
    /// fields; `entry.plate` is set to the pattern's fixed characters. At
    /// most [`WILDCARD_ENTRIES_MAX`] are in force in the fleet, as each is
    /// matched against every read. A pattern without wildcards is a plain
    /// entry.
    pub fn add_hotlist_pattern(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        pattern: &str,
        entry: Entry,
    ) -> Result<u64, AccessError> {
        self.add_local(now, token, entry, Some(pattern))
    }

    fn add_local(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        entry: Entry,
        pattern: Option<&str>,
    ) -> Result<u64, AccessError> {
        let object = format!(
            "add local hotlist entry {} ({}, {}, priority {}{}{}){}",
            pattern.map_or_else(|| entry.plate.to_string(), str::to_string),
            entry.category.name(),
            entry.reference,
            entry.detail.priority.name(),
            if entry.detail.covert { ", covert" } else { "" },
            entry
                .detail
                .expires
                .map_or(String::new(), |t| format!(", expires {t}")),
            match entry.detail.notes.as_str() {
                "" => String::new(),
                n => format!(": {n}"),
            }
        );
        self.change_policy(
            now,
            token,
            Permission::AddHotlistEntry,
            "add to the local hotlist",
            Action::EditHotlist,
            object,
            |policy, user, _| {
                // Exactly the bounds of a published list's entries.
                let mut entry = entry;
                entry.region = entry.region.map(|r| r.to_ascii_uppercase());
                if entry.detail.source.is_empty() {
                    entry.detail.source = user.chars().take(hotlist::SOURCE_LEN_MAX).collect();
                }
                if let Some(t) = entry.detail.expires
                    && t <= now
                {
                    return Err(AccessError::Invalid(format!(
                        "the expiry {t} is not in the future"
                    )));
                }
                let pattern = match pattern.map(wildcard).transpose()? {
                    Some(Some((pattern, fixed))) => {
                        let in_force = policy
                            .local_hotlist
                            .iter()
                            .filter(|e| {
                                e.pattern.is_some() && e.removed.is_none() && e.entry.in_force(now)
                            })
                            .count();
                        if in_force >= WILDCARD_ENTRIES_MAX {
                            return Err(AccessError::Invalid(format!(
                                "already {in_force} wildcard entries in force in the fleet, the most every node matches ({WILDCARD_ENTRIES_MAX}): remove one first"
                            )));
                        }
                        entry.plate = fixed;
                        Some(pattern)
                    }
                    // No wildcard: the text is a plate.
                    Some(None) => {
                        entry.plate = PlateText::parse(pattern.unwrap_or_default())
                            .map_err(|e| AccessError::Invalid(e.to_string()))?;
                        None
                    }
                    None => None,
                };
                hotlist::check_entry(&entry).map_err(|e| AccessError::Invalid(e.to_string()))?;
                let id = policy.local_hotlist.iter().map(|e| e.id).max().unwrap_or(0) + 1;
                policy.local_hotlist.push(LocalEntry {
                    id,
                    entry,
                    added_by: user.to_string(),
                    added_at: now,
                    removed: None,
                    pattern,
                    edited: None,
                });
                Ok(id)
            },
        )
    }

    /// Takes an entry off the local hotlist: whoever added it, or a
    /// Supervisor or Administrator. The entry stays on record as removed.
    pub fn remove_hotlist_entry(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        id: u64,
    ) -> Result<(), AccessError> {
        let object = format!("remove local hotlist entry {id}");
        let role = self.session_role(token);
        self.change_policy(
            now,
            token,
            Permission::AddHotlistEntry,
            "edit the local hotlist",
            Action::EditHotlist,
            object,
            |policy, user, _| {
                let e = editable(policy, id, user, role, "remove")?;
                e.removed = Some((user.to_string(), now));
                Ok(())
            },
        )
    }

    /// Changes an entry in force on the local hotlist (priority, expiry,
    /// reason, covert): whoever added it, or a Supervisor or
    /// Administrator. The entry records who edited it last, and when.
    pub fn edit_hotlist_entry(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        id: u64,
        edit: LocalEdit,
    ) -> Result<(), AccessError> {
        let mut said = Vec::new();
        if let Some(p) = edit.priority {
            said.push(format!("priority {}", p.name()));
        }
        match edit.expires {
            Some(Some(t)) => said.push(format!("expires {t}")),
            Some(None) => said.push("no expiry".into()),
            None => {}
        }
        if let Some(c) = edit.covert {
            said.push(if c { "covert" } else { "not covert" }.into());
        }
        if let Some(r) = &edit.reason {
            said.push(format!("reason '{r}'"));
        }
        let object = format!("edit local hotlist entry {id}: {}", said.join(", "));
        let role = self.session_role(token);
        self.change_policy(
            now,
            token,
            Permission::AddHotlistEntry,
            "edit the local hotlist",
            Action::EditHotlist,
            object,
            |policy, user, _| {
                if edit.is_empty() {
                    return Err(AccessError::Invalid(
                        "nothing to change: give a priority, an expiry, a reason or covert".into(),
                    ));
                }
                if let Some(Some(t)) = edit.expires
                    && t <= now
                {
                    return Err(AccessError::Invalid(format!(
                        "the expiry {t} is not in the future"
                    )));
                }
                let e = editable(policy, id, user, role, "edit")?;
                let mut entry = e.entry.clone();
                let d = &mut entry.detail;
                if let Some(p) = edit.priority {
                    d.priority = p;
                }
                if let Some(x) = edit.expires {
                    d.expires = x;
                }
                if let Some(r) = edit.reason {
                    d.notes = r;
                }
                if let Some(c) = edit.covert {
                    d.covert = c;
                }
                hotlist::check_entry(&entry).map_err(|e| AccessError::Invalid(e.to_string()))?;
                e.entry = entry;
                e.edited = Some((user.to_string(), now));
                Ok(())
            },
        )
    }
}

/// A local entry in force that `user` (of `role`) may change: they added
/// it, or they are a Supervisor or an Administrator.
fn editable<'p>(
    policy: &'p mut crate::policy::Policy,
    id: u64,
    user: &str,
    role: Option<UserRole>,
    what: &str,
) -> Result<&'p mut LocalEntry, AccessError> {
    let e = policy
        .local_hotlist
        .iter_mut()
        .find(|e| e.id == id && e.removed.is_none())
        .ok_or_else(|| AccessError::NotFound(format!("no local hotlist entry {id} in force")))?;
    let may =
        e.added_by == user || matches!(role, Some(UserRole::Supervisor | UserRole::Administrator));
    if !may {
        return Err(AccessError::Invalid(format!(
            "entry {id} was added by {}; only they, a Supervisor or an Administrator may {what} it",
            e.added_by
        )));
    }
    Ok(e)
}

/// A pattern as a wildcard entry holds it (upper case, separators dropped,
/// runs of `*` as one) and its fixed characters; None when it has no
/// wildcard (it is a plate).
fn wildcard(text: &str) -> Result<Option<(String, PlateText)>, AccessError> {
    let parsed =
        PlatePattern::parse(text).map_err(|e| AccessError::Invalid(format!("'{text}': {e}")))?;
    let mut pattern = String::new();
    for c in parsed.as_str().chars() {
        match c {
            ' ' | '-' | '.' => {}
            '*' if pattern.ends_with('*') => {}
            c => pattern.push(c.to_ascii_uppercase()),
        }
    }
    if !pattern.contains(['*', '?']) {
        return Ok(None);
    }
    let stars = pattern.matches('*').count();
    if stars > WILDCARD_STARS_MAX {
        return Err(AccessError::Invalid(format!(
            "wildcard '{pattern}' has {stars} '*'; a wildcard entry may have at most {WILDCARD_STARS_MAX}"
        )));
    }
    let fixed: String = pattern
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    if fixed.len() < WILDCARD_FIXED_MIN {
        return Err(AccessError::Invalid(format!(
            "wildcard '{pattern}' has {} fixed characters; a wildcard entry needs at least {WILDCARD_FIXED_MIN}, or it matches too many plates",
            fixed.len()
        )));
    }
    let fixed = PlateText::parse(&fixed).map_err(|e| AccessError::Invalid(e.to_string()))?;
    Ok(Some((pattern, fixed)))
}
