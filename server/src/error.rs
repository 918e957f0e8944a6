//! The one error type that domain code returns, and how it reaches people.
//!
//! Domain functions return [`Error`]. The JSON API turns it into [`ApiError`]
//! (a status code and `{"error": {"code", "message", "field"}}`); pages turn it
//! into [`PageError`] (a readable page, or a redirect to sign-in). Database and
//! internal failures are logged once, with detail, and reach the client only
//! as a generic 500: a coordinator can act on "field `tz`: unknown time zone",
//! not on a driver message.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Serialize;

/// Everything that can go wrong in a request, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input was well-formed but a value is not acceptable (422).
    #[error("{field}: {message}")]
    Invalid {
        /// The input field at fault.
        field: &'static str,
        /// What is wrong with it, in plain words.
        message: String,
    },
    /// The request could not be parsed at all (400).
    #[error("{0}")]
    Malformed(String),
    /// An uploaded file has a problem on a given line (422).
    #[error("{0}")]
    Import(#[from] crate::import::ImportError),
    /// The change conflicts with what already exists (409).
    #[error("{field}: {message}")]
    Conflict {
        /// The input field whose value clashes.
        field: &'static str,
        /// What it clashes with.
        message: String,
    },
    /// Nobody is signed in (401).
    #[error("sign in first")]
    Unauthenticated,
    /// Signed in, but the policy does not allow this (403).
    #[error("you are not allowed to do that")]
    Forbidden,
    /// The thing named does not exist, or the caller may not know it does (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Too many failed attempts; try again after the given number of seconds (429).
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    RateLimited {
        /// Seconds until another attempt is allowed.
        retry_after_secs: u64,
    },
    /// Busy for now, for the reason given; try again after the given
    /// number of seconds (429).
    #[error("{message}")]
    TryLater {
        /// What the person is waiting for, in their words.
        message: String,
        /// Seconds until trying again can work.
        retry_after_secs: u64,
    },
    /// The database failed (500, detail logged).
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// Anything else that is our fault (500, detail logged): what we were
    /// doing, and the error underneath when there is one, kept whole so the
    /// log shows its chain. Made by [`Error::internal`] and
    /// [`Error::internal_from`].
    #[error("internal error: {context}")]
    Internal {
        context: String,
        #[source]
        source: Option<BoxError>,
    },
}

/// Any error, as [`Error::Internal`] carries its cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Error {
    /// A 422 for `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid {
            field,
            message: message.into(),
        }
    }

    /// A 409 for `field`.
    pub fn conflict(field: &'static str, message: impl Into<String>) -> Self {
        Error::Conflict {
            field,
            message: message.into(),
        }
    }

    /// A 500 with nothing underneath: a broken invariant, or stored data
    /// this code cannot read.
    pub fn internal(context: impl Into<String>) -> Self {
        Error::Internal {
            context: context.into(),
            source: None,
        }
    }

    /// A 500 that `source` caused while the server was doing `context`.
    pub fn internal_from(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Error::Internal {
            context: context.into(),
            source: Some(source.into()),
        }
    }

    /// The HTTP status this error maps to.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Invalid { .. } | Error::Import(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Malformed(_) => StatusCode::BAD_REQUEST,
            Error::Conflict { .. } => StatusCode::CONFLICT,
            Error::Unauthenticated => StatusCode::UNAUTHORIZED,
            Error::Forbidden => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::RateLimited { .. } | Error::TryLater { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Database(_) | Error::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable, machine-readable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid { .. } => "invalid",
            Error::Import(_) => "invalid_file",
            Error::Malformed(_) => "malformed",
            Error::Conflict { .. } => "conflict",
            Error::Unauthenticated => "unauthenticated",
            Error::Forbidden => "forbidden",
            Error::NotFound(_) => "not_found",
            Error::RateLimited { .. } | Error::TryLater { .. } => "rate_limited",
            Error::Database(_) | Error::Internal { .. } => "internal",
        }
    }

    /// The field at fault, when there is one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Error::Invalid { field, .. } | Error::Conflict { field, .. } => Some(field),
            _ => None,
        }
    }

    /// What is safe to show the person: never database or internal detail.
    pub fn public_message(&self) -> String {
        match self {
            Error::Database(_) | Error::Internal { .. } => {
                "something went wrong on our side; it has been logged".to_owned()
            }
            other => other.to_string(),
        }
    }

    fn log_if_internal(&self) {
        match self {
            Error::Database(err) => tracing::error!(error = %err, "database error"),
            Error::Internal { context, source } => {
                let mut chain = context.clone();
                let mut cause = source.as_deref().map(|e| e as &dyn std::error::Error);
                while let Some(e) = cause {
                    chain.push_str(&format!(": {e}"));
                    cause = e.source();
                }
                tracing::error!(error = %chain, "internal error");
            }
            _ => {}
        }
    }

    fn retry_after(&self) -> Option<HeaderValue> {
        match self {
            Error::RateLimited { retry_after_secs }
            | Error::TryLater {
                retry_after_secs, ..
            } => Some(HeaderValue::from(*retry_after_secs)),
            _ => None,
        }
    }
}

/// Shorthand for domain results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An [`Error`] rendered as the API's JSON error body.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl<E: Into<Error>> From<E> for ApiError {
    fn from(err: E) -> Self {
        ApiError(err.into())
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    /// For a rejected file: which file and line.
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let err = self.0;
        err.log_if_internal();
        let import = match &err {
            Error::Import(e) => Some(e),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: err.code(),
                message: err.public_message(),
                field: err.field().or(import.and_then(|e| e.field.as_deref())),
                file: import.map(|e| e.file.as_str()),
                line: import.and_then(|e| e.line),
            },
        };
        let mut response = (err.status(), Json(body)).into_response();
        if let Some(value) = err.retry_after() {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// An [`Error`] rendered for a person in a browser.
#[derive(Debug)]
pub struct PageError(pub Error);

impl<E: Into<Error>> From<E> for PageError {
    fn from(err: E) -> Self {
        PageError(err.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let err = self.0;
        if matches!(err, Error::Unauthenticated) {
            return Redirect::to("/login").into_response();
        }
        err.log_if_internal();
        let page = crate::web::ErrorPage {
            title: match err.status() {
                StatusCode::FORBIDDEN => "Not allowed",
                StatusCode::NOT_FOUND => "Not found",
                StatusCode::TOO_MANY_REQUESTS => "Please wait",
                s if s.is_server_error() => "Something went wrong",
                _ => "That did not work",
            },
            message: err.public_message(),
        };
        let mut response = (err.status(), Html(crate::web::render(&page))).into_response();
        if let Some(value) = err.retry_after() {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_keeps_its_cause_for_the_log_and_shows_none_of_it() {
        let cause = serde_json::from_str::<u8>("x").unwrap_err();
        let err = Error::internal_from("stored offers", cause);
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert!(
            source
                .as_deref()
                .is_some_and(|s| s.contains("expected value")),
            "{source:?}"
        );
        assert_eq!(err.to_string(), "internal error: stored offers");
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            err.public_message(),
            "something went wrong on our side; it has been logged"
        );
        assert!(std::error::Error::source(&Error::internal("a broken rule")).is_none());
    }
}
