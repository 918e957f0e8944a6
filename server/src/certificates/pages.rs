//! The public verification page, `/certificates/{code}`: anyone holding a
//! certificate (an assessor, an admissions tutor) checks its code here
//! without signing in. For a real code it shows that the certificate is
//! genuine and what it printed, nothing more; for any other code, a 404
//! page that says how codes look.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::{Certificate, Printed};
use crate::error::PageError;
use crate::extract::ClientAddr;
use crate::state::{AppState, Routes};
use crate::web::{ErrorPage, render};

pub fn routes(routes: Routes) -> Routes {
    routes.get("/certificates/{code}", verify_page)
}

#[derive(askama::Template)]
#[template(path = "certificate.html")]
struct VerifyPage {
    code: String,
    p: Printed,
    dates: String,
    partners: String,
    issued_on: String,
}

impl VerifyPage {
    fn of(c: Certificate) -> Self {
        let p = c.printed;
        let dates = if p.first_date == p.last_date {
            Printed::date_text(p.first_date)
        } else {
            format!(
                "{} to {}",
                Printed::date_text(p.first_date),
                Printed::date_text(p.last_date)
            )
        };
        VerifyPage {
            code: c.code.to_string(),
            partners: p.partner_schools.join(", "),
            issued_on: Printed::date_text(p.signed_on),
            dates,
            p,
        }
    }
}

async fn verify_page(
    State(state): State<AppState>,
    addr: ClientAddr,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    match super::http::checked(&state, addr, &code).await? {
        Some(certificate) => Ok(Html(render(&VerifyPage::of(certificate))).into_response()),
        None => {
            let page = ErrorPage {
                title: "No such certificate",
                message: "No certificate has this code. Check it against the certificate: four \
                          groups of four letters and digits, such as 7K2M-QX9D-4HTR-B0VE."
                    .to_owned(),
            };
            Ok((StatusCode::NOT_FOUND, Html(render(&page))).into_response())
        }
    }
}
