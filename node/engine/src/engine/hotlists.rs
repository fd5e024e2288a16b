//! Bulk hotlists through the engine: an Administrator at a station publishes
//! a new version (signed by the station, audited); any trained user may see
//! which versions this node holds.

use alpr_protocol::hotlist::{self, ENTRIES_MAX, Entry, HotlistVersion};
use alpr_protocol::{Action, Outcome, Role, Timestamp};

use super::{AccessError, Engine, SessionToken};
use crate::policy::{LocalEntry, Permission, UserRole};
use crate::store::{Effect, HeldList};

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
    pub fn publish_hotlist(
        &mut self,
        now: Timestamp,
        token: SessionToken,
        list: &str,
        entries: Vec<Entry>,
    ) -> Result<HotlistVersion, AccessError> {
        let entries = match self.staged.remove(&token) {
            Some((staged_list, mut staged)) if staged_list == list => {
                staged.extend(entries);
                staged
            }
            _ => entries,
        };
        let object = format!("hotlist '{list}': {} entries", entries.len());
        let actor = self.check_publishable(now, token, list, &entries, &object)?;
        let entries = hotlist::canonical(entries);
        let held = self.node.store.hotlists()?;
        let version = HotlistVersion {
            list: list.to_string(),
            version: held.get(list).map_or(1, |h| h.head.version + 1),
            entries: entries.len() as u64,
            content: hotlist::content_hash(&entries),
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
        Ok(version)
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
        let object = format!(
            "add local hotlist entry {} ({}, {})",
            entry.plate,
            entry.category.name(),
            entry.reference
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
                hotlist::check_entry(&entry).map_err(|e| AccessError::Invalid(e.to_string()))?;
                let id = policy.local_hotlist.iter().map(|e| e.id).max().unwrap_or(0) + 1;
                policy.local_hotlist.push(LocalEntry {
                    id,
                    entry,
                    added_by: user.to_string(),
                    added_at: now,
                    removed: None,
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
                let e = policy
                    .local_hotlist
                    .iter_mut()
                    .find(|e| e.id == id && e.removed.is_none())
                    .ok_or_else(|| AccessError::NotFound(format!("no local hotlist entry {id} in force")))?;
                let may = e.added_by == user
                    || matches!(role, Some(UserRole::Supervisor | UserRole::Administrator));
                if !may {
                    return Err(AccessError::Invalid(format!(
                        "entry {id} was added by {}; only they, a Supervisor or an Administrator may remove it",
                        e.added_by
                    )));
                }
                e.removed = Some((user.to_string(), now));
                Ok(())
            },
        )
    }
}
