//! Certificates over HTTP: issuing and listing a mentor's certificates
//! (JSON), the PDF download, and the public check of a code as JSON (the
//! HTML check is in [`super::pages`]).
//!
//! The check is public (no sign-in): it answers for a real code with what
//! that certificate printed and nothing else, and 404 for any other code,
//! well-formed or not, so it tells nobody anything about codes that do not
//! exist. Each address has [`super::CHECKS_PER_TEN_MINUTES`] of them.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use uuid::Uuid;

use super::{Certificate, Printed, VerificationCode};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, Error, Result};
use crate::extract::ClientAddr;
use crate::people::accounts::User;
use crate::state::{AppState, Routes};

pub fn routes(routes: Routes) -> Routes {
    routes
        .post("/api/mentors/{user_id}/certificates", api_issue)
        .get("/api/mentors/{user_id}/certificates", api_list)
        .get("/api/certificates/{code}", api_check)
        .get("/certificates/{code}/pdf", pdf_download)
}

/// A certificate as its mentor and coordinators see it.
#[derive(Serialize)]
pub struct CertificateView {
    pub code: VerificationCode,
    /// The public verification page.
    pub verify_url: String,
    /// The PDF, for the signed-in.
    pub pdf_url: String,
    pub issued_at: chrono::DateTime<chrono::Utc>,
    pub printed: Printed,
}

impl CertificateView {
    fn of(state: &AppState, c: Certificate) -> Self {
        CertificateView {
            verify_url: format!("{}{}", state.settings.base_url(), c.code.verify_path()),
            pdf_url: format!("{}/pdf", c.code.verify_path()),
            code: c.code,
            issued_at: c.issued_at,
            printed: c.printed,
        }
    }
}

/// What the public check says of a real code: that it is genuine, and
/// what the certificate printed.
#[derive(Serialize)]
struct CheckView {
    genuine: bool,
    code: VerificationCode,
    printed: Printed,
}

/// The mentor `id` names and their school (refusing an account with none).
async fn mentor_and_school(state: &AppState, id: Uuid) -> Result<(User, Uuid)> {
    let mentor = state.store.user(id).await?;
    let school = mentor.school_id.ok_or(Error::NotFound("mentor"))?;
    Ok((mentor, school))
}

/// The certificate a code names, after counting the check against the
/// caller's address; unknown and malformed codes alike are not found.
pub(super) async fn checked(
    state: &AppState,
    addr: ClientAddr,
    raw: &str,
) -> Result<Option<Certificate>> {
    state.certificate_checks.check(addr.0)?;
    match VerificationCode::parse(raw) {
        Some(code) => state.store.certificate_by_code(&code).await,
        None => Ok(None),
    }
}

async fn api_issue(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, Json<CertificateView>), ApiError> {
    let (mentor, school) = mentor_and_school(&state, id).await?;
    authorize(&actor, Action::IssueCertificate { school })?;
    let certificate = super::issue(&state.store, &mentor, &actor.user).await?;
    Ok((
        StatusCode::CREATED,
        Json(CertificateView::of(&state, certificate)),
    ))
}

async fn api_list(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<CertificateView>>, ApiError> {
    let (mentor, school) = mentor_and_school(&state, id).await?;
    let own = mentor.id == actor.user.id;
    authorize(&actor, Action::ViewCertificates { school, own })?;
    let certificates = state.store.certificates_of(mentor.id).await?;
    Ok(Json(
        certificates
            .into_iter()
            .map(|c| CertificateView::of(&state, c))
            .collect(),
    ))
}

async fn api_check(
    State(state): State<AppState>,
    addr: ClientAddr,
    Path(code): Path<String>,
) -> Result<Json<CheckView>, ApiError> {
    let certificate = checked(&state, addr, &code)
        .await?
        .ok_or(Error::NotFound("certificate"))?;
    Ok(Json(CheckView {
        genuine: true,
        code: certificate.code,
        printed: certificate.printed,
    }))
}

/// The PDF, for the mentor it was issued to and their school's
/// coordinators; anyone else is refused.
async fn pdf_download(
    State(state): State<AppState>,
    actor: Actor,
    Path(code): Path<String>,
) -> Result<Response, crate::error::PageError> {
    let certificate = match VerificationCode::parse(&code) {
        Some(code) => state.store.certificate_by_code(&code).await?,
        None => None,
    }
    .ok_or(Error::NotFound("certificate"))?;
    authorize(
        &actor,
        Action::ViewCertificates {
            school: certificate.school_id,
            own: certificate.mentor_id == actor.user.id,
        },
    )?;
    let pdf = super::pdf::render(&certificate, &state.settings.base_url())?;
    let filename = format!("volunteering-certificate-{}.pdf", certificate.code);
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        pdf,
    )
        .into_response())
}
