//! The names a list of sessions shows, read in a fixed number of queries
//! (every school, and the accounts of everyone in them), not one per
//! person: a school's calendar feed has thousands of sessions but only a
//! few dozen people and two schools.

use std::collections::{BTreeSet, HashMap};

use uuid::Uuid;

use super::super::{Session, SessionNames};
use crate::error::{Error, Result};
use crate::people::accounts::User;
use crate::people::schools::School;
use crate::store::Store;

/// The people of some sessions and every school, by id.
pub(crate) struct People {
    pub users: HashMap<Uuid, User>,
    pub schools: HashMap<Uuid, School>,
}

impl People {
    /// Everyone in `sessions`, and every school: two queries.
    pub async fn load(store: &Store, sessions: &[Session]) -> Result<People> {
        let ids: BTreeSet<Uuid> = sessions
            .iter()
            .flat_map(|s| [s.mentee_id, s.mentor_id])
            .collect();
        let ids: Vec<Uuid> = ids.into_iter().collect();
        let users = store.users_by_id(&ids).await?;
        let schools = store.list_schools().await?;
        Ok(People {
            users: users.into_iter().map(|u| (u.id, u)).collect(),
            schools: schools.into_iter().map(|s| (s.id, s)).collect(),
        })
    }

    pub fn user(&self, id: Uuid) -> Result<&User> {
        self.users.get(&id).ok_or(Error::NotFound("account"))
    }

    /// A person's school, if they have one.
    pub fn school_of(&self, id: Uuid) -> Result<Option<&School>> {
        match self.user(id)?.school_id {
            Some(school) => self
                .schools
                .get(&school)
                .map(Some)
                .ok_or(Error::NotFound("school")),
            None => Ok(None),
        }
    }

    fn person(&self, id: Uuid) -> Result<(String, String)> {
        let name = self.user(id)?.given_name.clone();
        let school = self.school_of(id)?.map(|s| s.name.clone());
        Ok((name, school.unwrap_or_default()))
    }

    pub fn names(&self, session: &Session) -> Result<SessionNames> {
        let (mentee, mentee_school) = self.person(session.mentee_id)?;
        let (mentor, mentor_school) = self.person(session.mentor_id)?;
        Ok(SessionNames {
            mentee,
            mentee_school,
            mentor,
            mentor_school,
        })
    }
}

impl Store {
    /// The names each of `sessions` may show, in the same order.
    pub async fn session_names(&self, sessions: &[Session]) -> Result<Vec<SessionNames>> {
        let people = People::load(self, sessions).await?;
        sessions.iter().map(|s| people.names(s)).collect()
    }

    /// The names one session may show.
    pub async fn names_of_session(&self, session: &Session) -> Result<SessionNames> {
        People::load(self, std::slice::from_ref(session))
            .await?
            .names(session)
    }
}
