//! Fixtures: the schools, people and partnership most tests start from
//! ([`World`]), and the steps that make it ready to match, book and call.

use mentorbridge::people::accounts::{ParsedAccount, StaffInput, StudentInput, User};
use mentorbridge::people::partnerships::Partnership;
use mentorbridge::people::schools::{NewSchool, School, SchoolInput};

use crate::{PASSWORD, TestApp};

/// The people and places most tests need: schools A and B in an accepted
/// partnership (proposed by A), and school C outside it.
pub struct World {
    pub a: School,
    pub b: School,
    pub c: School,
    pub partnership: Partnership,
    pub admin: User,
    pub coord_a: User,
    pub teacher_a: User,
    pub dsl_a: User,
    pub mentor_a: User,
    pub coord_b: User,
    pub mentee_b: User,
    pub coord_c: User,
}

impl TestApp {
    pub async fn add_school(&self, slug: &str, name: &str) -> School {
        self.add_school_in(slug, name, "Europe/London", "GB").await
    }

    /// A school in another time zone and country.
    pub async fn add_school_in(&self, slug: &str, name: &str, zone: &str, country: &str) -> School {
        let input = SchoolInput {
            slug: slug.into(),
            name: name.into(),
            time_zone: zone.into(),
            country: Some(country.into()),
            region: None,
        };
        self.store
            .create_school(&NewSchool::parse(&input).unwrap(), None)
            .await
            .unwrap()
    }

    pub async fn add_staff(&self, school: &School, username: &str, role: &str) -> User {
        let input = StaffInput {
            username: username.into(),
            password: PASSWORD.into(),
            given_name: format!("{username}-given"),
            family_name: format!("{username}-family"),
            role: role.into(),
            email: Some(format!("{username}@{}.example", school.slug)),
        };
        let user = ParsedAccount::staff(&input).unwrap().hash().await.unwrap();
        self.store
            .create_user(&user, Some(school.id))
            .await
            .unwrap()
    }

    pub async fn add_student(
        &self,
        school: &School,
        username: &str,
        kind: &str,
        year: i64,
    ) -> User {
        let input = StudentInput {
            username: username.into(),
            password: PASSWORD.into(),
            given_name: format!("{username}-given"),
            family_name: format!("{username}-family"),
            year_group: year,
            kind: kind.into(),
            subjects: vec!["Maths".into(), "English".into()],
        };
        let user = ParsedAccount::student(&input)
            .unwrap()
            .hash()
            .await
            .unwrap();
        self.store
            .create_user(&user, Some(school.id))
            .await
            .unwrap()
    }

    pub async fn add_admin(&self, username: &str) -> User {
        let user = ParsedAccount::admin(username, PASSWORD, "Admin")
            .unwrap()
            .hash()
            .await
            .unwrap();
        self.store.create_user(&user, None).await.unwrap()
    }

    /// Makes the world's partnership ready to match: both schools in term
    /// for years, registration every weekday, two iPads and a supervisor at
    /// each end; mentor.a offering Maths (GCSE), trained and cleared; and
    /// mentee.b referred for Maths, approved. Returns the referral's id.
    pub async fn ready_to_match(&self, world: &World) -> uuid::Uuid {
        self.calendars_for_matching(world).await;
        self.ready_pair(world).await
    }

    /// mentor.a ready for Maths, and mentee.b referred for Maths by a new
    /// teacher.b and approved. Returns the referral's id.
    pub async fn ready_pair(&self, world: &World) -> uuid::Uuid {
        self.ready_mentor(world, &world.mentor_a, "Maths").await;
        let teacher_b = self.add_staff(&world.b, "teacher.b", "teacher").await;
        self.approved_referral(world, &teacher_b, world.mentee_b.id, "Maths")
            .await
    }

    /// Schools A and B in term for years, with registration every weekday
    /// and the [`TestApp::matching_policy`].
    pub async fn calendars_for_matching(&self, world: &World) {
        self.calendars_with_registration(world, "08:40", "08:40")
            .await;
    }

    /// Schools A and B in term for years, registration every weekday for
    /// twenty minutes from `a_start` and `b_start` (local times), and the
    /// [`TestApp::matching_policy`].
    pub async fn calendars_with_registration(&self, world: &World, a_start: &str, b_start: &str) {
        self.terms_and_registration(world, a_start, b_start).await;
        self.matching_policy(world).await;
    }

    /// [`TestApp::calendars_for_matching`] less the slot policy (for a
    /// coordinator to set by form): terms, bells, and each school's two
    /// iPads (teacher.a and coord.b supervising).
    pub async fn calendars_without_policy(&self, world: &World) {
        self.terms_and_registration(world, "08:40", "08:40").await;
        self.declare_capacity(&world.a, 2, &["teacher.a"], None)
            .await;
        self.declare_capacity(&world.b, 2, &["coord.b"], None).await;
    }

    async fn terms_and_registration(&self, world: &World, a_start: &str, b_start: &str) {
        use mentorbridge::calendar::store::{import_bells, import_term_dates};
        const TERMS: &str =
            "start_date,end_date,kind,label\n2026-01-05,2030-07-19,term,Long term\n";
        for (school, start) in [(&world.a, a_start), (&world.b, b_start)] {
            let time: chrono::NaiveTime = format!("{start}:00").parse().unwrap();
            let end = (time + chrono::Duration::minutes(20)).format("%H:%M");
            let bells: String = std::iter::once("week,day,period,start,end,kind\n".to_owned())
                .chain(
                    ["Mon", "Tue", "Wed", "Thu", "Fri"]
                        .iter()
                        .map(|d| format!("*,{d},REG,{start},{end},registration\n")),
                )
                .collect();
            import_term_dates(&self.store, school.id, "terms.csv", TERMS)
                .await
                .unwrap();
            import_bells(&self.store, school.id, "bells.csv", &bells, None)
                .await
                .unwrap();
        }
    }

    /// Runs the optimiser and has coord.a and coord.b approve its proposal
    /// (which books the series).
    pub async fn approve_as_both(&self, world: &World) {
        let proposal = self
            .store
            .run_matching(&world.partnership, None)
            .await
            .unwrap();
        for user in [&world.coord_a, &world.coord_b] {
            let actor = mentorbridge::auth::Actor {
                user: user.clone(),
                csrf_token: String::new(),
            };
            self.store
                .approve_proposal(&world.partnership, proposal.id, &actor)
                .await
                .unwrap();
        }
    }

    /// The [`TestApp::matching_policy`], but with both schools letting
    /// their students start a call before a supervisor joins.
    pub async fn calls_without_supervisor(&self, world: &World) {
        self.registration_policy(world, Some(false)).await;
    }

    /// A session of the world's approved match that starts two minutes from
    /// now (its room is open at once), for call and attendance tests. Any
    /// other live session of the pair within a day is cancelled, so this is
    /// the only one to join today.
    pub async fn session_now(&self, world: &World) -> mentorbridge::booking::Session {
        use chrono::{Duration, Utc};
        let record = self
            .store
            .partnership_matches(world.partnership.id)
            .await
            .unwrap()
            .remove(0);
        let today = Utc::now().date_naive();
        let mut slot = mentorbridge::calendar::store::partnership_slots(
            &self.store,
            &world.partnership,
            today,
            today + Duration::days(14),
        )
        .await
        .unwrap()
        .alignment
        .slots
        .remove(0);
        let start = Utc::now()
            .with_timezone(&Utc)
            .checked_add_signed(Duration::minutes(2))
            .unwrap();
        let start = chrono::DateTime::from_timestamp(start.timestamp(), 0).unwrap();
        slot.start_utc = start;
        slot.end_utc = start + Duration::minutes(20);
        // The test schools are in London; near enough for a label.
        for end in slot.schools.values_mut() {
            end.date = start.date_naive();
            end.start = start.time();
            end.end = (start + Duration::minutes(20)).time();
        }
        for s in self
            .store
            .sessions_of_student(
                record.mentee_id,
                start - Duration::hours(1),
                start + Duration::hours(1),
            )
            .await
            .unwrap()
        {
            if s.status.is_live() {
                self.store
                    .cancel_session(&s, "making room for a test call")
                    .await
                    .unwrap();
            }
        }
        self.store.book_session(&record, &slot).await.unwrap()
    }

    /// A session of the world's approved match at `start` (any time, past
    /// or future), twenty minutes long, booked as a one-off.
    pub async fn session_at(
        &self,
        world: &World,
        start: chrono::DateTime<chrono::Utc>,
    ) -> mentorbridge::booking::Session {
        use chrono::{Duration, Utc};
        let record = self
            .store
            .partnership_matches(world.partnership.id)
            .await
            .unwrap()
            .remove(0);
        let today = Utc::now().date_naive();
        let mut slot = mentorbridge::calendar::store::partnership_slots(
            &self.store,
            &world.partnership,
            today,
            today + Duration::days(14),
        )
        .await
        .unwrap()
        .alignment
        .slots
        .remove(0);
        let start = chrono::DateTime::from_timestamp(start.timestamp(), 0).unwrap();
        slot.start_utc = start;
        slot.end_utc = start + Duration::minutes(20);
        for end in slot.schools.values_mut() {
            end.date = start.date_naive();
            end.start = start.time();
            end.end = (start + Duration::minutes(20)).time();
        }
        self.store.book_session(&record, &slot).await.unwrap()
    }

    /// A session of the world's match `days_ago` days back, with the
    /// mentee's and mentor's attendance as given (a teacher's correction, as
    /// after a call the signalling missed) and settled: `completed` when
    /// both were there, `missed` otherwise.
    pub async fn past_session(
        &self,
        world: &World,
        days_ago: i64,
        mentee_there: bool,
        mentor_there: bool,
    ) -> mentorbridge::booking::Session {
        use chrono::{Duration, Utc};
        let session = self
            .session_at(world, Utc::now() - Duration::days(days_ago))
            .await;
        for (user, present) in [
            (session.mentee_id, mentee_there),
            (session.mentor_id, mentor_there),
        ] {
            let input = mentorbridge::attendance::CorrectionInput {
                user_id: user,
                present,
                minutes: None,
                reason: "register taken on paper".into(),
            };
            self.store
                .correct_attendance(&session, &input, world.teacher_a.id)
                .await
                .unwrap();
        }
        self.store.settle_sessions(Utc::now()).await.unwrap();
        self.store.session(session.id).await.unwrap()
    }

    /// Sessions of the world's approved match in the past, settled from
    /// what the signalling saw: one for each `(days_ago, both_came)`,
    /// booked in the pair's next slot moved back `days_ago` days (its
    /// local dates with it), joined by the mentor and, when `both_came`,
    /// the mentee. So each is `completed` (delivered) or `missed`. Returns
    /// them as settled.
    pub async fn past_sessions(
        &self,
        world: &World,
        sessions: &[(i64, bool)],
    ) -> Vec<mentorbridge::booking::Session> {
        use chrono::{Duration, Utc};
        use mentorbridge_signalling::hub::RoomEvent;
        use mentorbridge_signalling::token::CallRole;
        let record = self
            .store
            .partnership_matches(world.partnership.id)
            .await
            .unwrap()
            .remove(0);
        let today = Utc::now().date_naive();
        let template = mentorbridge::calendar::store::partnership_slots(
            &self.store,
            &world.partnership,
            today,
            today + Duration::days(14),
        )
        .await
        .unwrap()
        .alignment
        .slots
        .remove(0);
        let mut booked = Vec::new();
        for &(days_ago, both_came) in sessions {
            let mut slot = template.clone();
            let back = Duration::days(days_ago);
            slot.start_utc -= back;
            slot.end_utc -= back;
            for end in slot.schools.values_mut() {
                end.date -= back;
            }
            let session = self.store.book_session(&record, &slot).await.unwrap();
            let mut came = vec![(record.mentor_id, CallRole::Mentor)];
            if both_came {
                came.push((record.mentee_id, CallRole::Mentee));
            }
            for (user, role) in came {
                self.store
                    .record_room_event(&RoomEvent::Joined {
                        session: session.id,
                        user,
                        role,
                        at: session.starts_at,
                    })
                    .await
                    .unwrap();
            }
            booked.push(session.id);
        }
        self.store.settle_sessions(Utc::now()).await.unwrap();
        let mut settled = Vec::new();
        for id in booked {
            settled.push(self.store.session(id).await.unwrap());
        }
        settled
    }

    /// The slot policy [`TestApp::ready_to_match`] sets: registration at
    /// both schools, two iPads each, teacher.a and coord.b supervising.
    pub async fn matching_policy(&self, world: &World) {
        self.registration_policy(world, None).await;
    }

    /// Twenty-minute sessions in registration at both schools, two iPads
    /// each, teacher.a and coord.b supervising; `require_supervisor` as
    /// given to both (`None`: the default, calls wait for a supervisor).
    async fn registration_policy(&self, world: &World, require_supervisor: Option<bool>) {
        self.declare_capacity(&world.a, 2, &["teacher.a"], None)
            .await;
        self.declare_capacity(&world.b, 2, &["coord.b"], None).await;
        let school = |_supervisor: &str| {
            serde_json::json!({
                "kinds": ["registration"],
                "require_supervisor": require_supervisor,
            })
        };
        let input: mentorbridge::calendar::PolicyInput =
            serde_json::from_value(serde_json::json!({
                "session_minutes": 20,
                "schools": {"school-a": school("teacher.a"), "school-b": school("coord.b")}
            }))
            .unwrap();
        let policy = mentorbridge::calendar::store::parse_policy(
            &self.store,
            &world.partnership,
            &input,
            None,
        )
        .await
        .unwrap();
        self.store
            .put_slot_policy(world.partnership.id, &policy)
            .await
            .unwrap();
    }

    /// Declares `school`'s iPads and supervisors for mentoring (from the
    /// start), shared by all its partnerships.
    pub async fn declare_capacity(
        &self,
        school: &School,
        devices: u32,
        supervisors: &[&str],
        pairs_per_supervisor: Option<u32>,
    ) {
        let input = mentorbridge::calendar::capacity::CapacityInput {
            from: None,
            capacity: mentorbridge::calendar::capacity::SchoolCapacity {
                devices,
                supervisors: supervisors.iter().map(|s| (*s).to_owned()).collect(),
                pairs_per_supervisor,
                periods: Default::default(),
            },
        };
        mentorbridge::calendar::store::declare_capacity(&self.store, school.id, &input)
            .await
            .unwrap();
    }

    /// Makes a mentor at school A ready: offering `subject` at GCSE, two
    /// mentees at once, free in registration every day, trained, cleared.
    pub async fn ready_mentor(&self, world: &World, mentor: &User, subject: &str) {
        use mentorbridge::people::mentors::{
            FreePeriod, Level, Offer, ProfileInput, TrainingInput,
        };
        let profile = ProfileInput {
            offers: vec![Offer {
                subject: subject.into(),
                level: Level::Gcse,
            }],
            capacity: 2,
            free_periods: ["Mon", "Tue", "Wed", "Thu", "Fri"]
                .iter()
                .map(|d| FreePeriod {
                    week: "*".into(),
                    day: (*d).into(),
                    period: "REG".into(),
                })
                .collect(),
        };
        self.store
            .set_mentor_profile(mentor.id, &profile)
            .await
            .unwrap();
        self.store
            .record_training(
                mentor.id,
                &TrainingInput {
                    course: "Peer mentoring".into(),
                    date: "2026-10-01".parse().unwrap(),
                },
            )
            .await
            .unwrap();
        let dsl = mentorbridge::auth::Actor {
            user: world.dsl_a.clone(),
            csrf_token: String::new(),
        };
        if self
            .store
            .mentor_profile(mentor.id)
            .await
            .unwrap()
            .cleared_by
            .is_none()
        {
            self.store.clear_mentor(mentor.id, &dsl).await.unwrap();
        }
    }

    /// Refers a mentee at school B for `focus` (by `referrer`, a teacher
    /// there) and has coord.b approve it. Returns the referral's id.
    pub async fn approved_referral(
        &self,
        world: &World,
        referrer: &User,
        mentee: uuid::Uuid,
        focus: &str,
    ) -> uuid::Uuid {
        self.approved_referral_at(&world.b, &world.coord_b, referrer, mentee, focus)
            .await
    }

    /// Refers a mentee at `school` for `focus` (by `referrer`, a teacher
    /// there) and has its `coordinator` approve it. Returns the referral's id.
    pub async fn approved_referral_at(
        &self,
        school: &School,
        coordinator: &User,
        referrer: &User,
        mentee: uuid::Uuid,
        focus: &str,
    ) -> uuid::Uuid {
        use mentorbridge::people::referrals::{ConsentInput, ReferralInput, ReferralStatus};
        let actor = |user: &User| mentorbridge::auth::Actor {
            user: user.clone(),
            csrf_token: String::new(),
        };
        let input = ReferralInput {
            mentee_id: mentee,
            priority: 2,
            strengths: String::new(),
            concerns: vec![],
            reasons: "Struggling since the start of term".into(),
            focus: vec![focus.into()],
            support_received: String::new(),
            strategies_tried: String::new(),
            agencies: String::new(),
            consent: Some(ConsentInput {
                given_by: "Parent".into(),
                date: "2026-11-01".parse().unwrap(),
            }),
            entry_criteria_met: true,
            planned_weeks: 12,
            review_date: None,
            unavailable: Vec::new(),
            preferred_days: Vec::new(),
        };
        let referral = self
            .store
            .create_referral(school.id, &actor(referrer), &input)
            .await
            .unwrap();
        let referral = self
            .store
            .set_referral_status(&referral, &actor(referrer), ReferralStatus::Submitted, None)
            .await
            .unwrap();
        self.store
            .set_referral_status(
                &referral,
                &actor(coordinator),
                ReferralStatus::Approved,
                None,
            )
            .await
            .unwrap()
            .id
    }

    pub async fn world(&self) -> World {
        self.world_in("Europe/London", "GB").await
    }

    /// [`TestApp::world`] with school B in another zone and country.
    pub async fn world_in(&self, b_zone: &str, b_country: &str) -> World {
        let a = self.add_school("school-a", "School A").await;
        let b = self
            .add_school_in("school-b", "School B", b_zone, b_country)
            .await;
        let c = self.add_school("school-c", "School C").await;
        let partnership = self
            .store
            .create_accepted_partnership(a.id, b.id)
            .await
            .unwrap();
        World {
            admin: self.add_admin("admin").await,
            coord_a: self.add_staff(&a, "coord.a", "coordinator").await,
            teacher_a: self.add_staff(&a, "teacher.a", "teacher").await,
            dsl_a: self.add_staff(&a, "dsl.a", "safeguarding_lead").await,
            mentor_a: self.add_student(&a, "mentor.a", "mentor", 12).await,
            coord_b: self.add_staff(&b, "coord.b", "coordinator").await,
            mentee_b: self.add_student(&b, "mentee.b", "mentee", 8).await,
            coord_c: self.add_staff(&c, "coord.c", "coordinator").await,
            a,
            b,
            c,
            partnership,
        }
    }
}
