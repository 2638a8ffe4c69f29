//! The policy decision point's HTTP API (docs/authorization.md#the-pdp):
//! `POST /authorization/api/v1/authorize` (XACML JSON) and the reference's internal
//! `POST /authorization/api/v1/decision` (XACML JSON or XML, answered in the same form),
//! thin adapters over the context handler in `systembruker_app::pdp` (parse the
//! request, check its size, decide, answer).

use axum::extract::{FromRequest, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use systembruker_xacml::{DecisionResult, Request, to_json, to_xml};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{AuthorizeScope, Scoped};
use crate::extract::{Body, JsonBody, body_problem};
use crate::problem::{ApiError, ApiResult};
use systembruker_app::Caller;

pub use systembruker_app::pdp::{
    CacheLimits, CachedPolicy, ContextHandler, DecisionLabels, Enrichment, attr,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(authorize))
        .routes(routes!(decision))
}

/// Most bytes of `IncludeInResult` attributes the results of one request may repeat.
pub const MAX_ECHOED_BYTES: usize = 4 * crate::MAX_BODY_BYTES;

/// Refuses, before any decision is made, a request that asks for more individual
/// decisions than `limit`, or whose results would repeat more than [`MAX_ECHOED_BYTES`]
/// of its attributes: both are counted, not expanded, so a refused request costs no
/// more than its parsing.
fn check_decision_count(request: &Request, limit: usize) -> ApiResult<()> {
    let asked = request.decision_count();
    if asked > limit {
        return Err(ApiError::invalid_field(
            "STD-00031",
            "/Request",
            format!(
                "the request asks for {asked} individual decisions; at most {limit} are answered per request: split it into smaller requests"
            ),
        ));
    }
    let echoed = request.echoed_bytes();
    if echoed > MAX_ECHOED_BYTES {
        return Err(ApiError::invalid_field(
            "STD-00032",
            "/Request",
            format!(
                "the results would repeat {echoed} bytes of IncludeInResult attributes; at most {MAX_ECHOED_BYTES} are allowed: include fewer or smaller attributes, or split the request"
            ),
        ));
    }
    Ok(())
}

#[utoipa::path(post, path = "/authorization/api/v1/authorize", tag = "authorization",
    request_body(content = serde_json::Value, content_type = "application/json",
        description = "XACML 3.0 JSON-profile request (docs/authorization.md#the-pdp)"),
    security(("bearer" = ["altinn:authorization/authorize"])),
    responses((status = 200, body = serde_json::Value, description = "XACML JSON response, one result per individual request, in order"),
        (status = 400, body = crate::problem::ProblemBody), (status = 401, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 413, body = crate::problem::ProblemBody),
        (status = 415, body = crate::problem::ProblemBody)))]
async fn authorize(
    State(state): State<AppState>,
    caller: Scoped<AuthorizeScope>,
    body: JsonBody,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let request = Request::from_json(body.text()?).map_err(|e| {
        ApiError::invalid_field(
            "STD-00030",
            "/Request",
            format!("the decision request is not valid: {e}"),
        )
    })?;
    let results = decide(&state, &caller, &request).await?;
    Ok(axum::Json(to_json(&results)))
}

/// The one decision path of both endpoints: the size checks, then the context handler
/// (with the audit recording every answered decision).
async fn decide(
    state: &AppState,
    caller: &Caller,
    request: &Request,
) -> ApiResult<Vec<DecisionResult>> {
    check_decision_count(request, state.config.pdp_max_decisions)?;
    Ok(systembruker_app::audit::decide(&state.app, request, caller).await)
}

/// The form a decision request comes in, and its answer goes out in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Json,
    Xml,
}

impl Form {
    /// `application/json` / `*+json`, or `application/xml`, `text/xml` / `*+xml`.
    fn of(content_type: &str) -> Option<Form> {
        let mime = content_type.parse::<mime::Mime>().ok()?;
        let subtype = mime.subtype();
        let suffix = mime.suffix();
        if mime.type_() == mime::APPLICATION
            && (subtype == mime::JSON || suffix == Some(mime::JSON))
        {
            return Some(Form::Json);
        }
        let xml_type = mime.type_() == mime::APPLICATION || mime.type_() == mime::TEXT;
        (xml_type && (subtype == mime::XML || suffix == Some(mime::XML))).then_some(Form::Xml)
    }
}

/// A decision request's body with its form; any other content type is refused
/// with 415 before the body is read.
struct DecisionBody {
    form: Form,
    body: Body,
}

impl<S: Send + Sync> FromRequest<S> for DecisionBody {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let Some(form) = content_type.and_then(Form::of) else {
            return Err(body_problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "expected a XACML request with Content-Type: application/json or application/xml, not {}",
                    content_type.unwrap_or("none")
                ),
            ));
        };
        let body = Body::from_request(req, state).await?;
        Ok(DecisionBody { form, body })
    }
}

#[utoipa::path(post, path = "/authorization/api/v1/decision", tag = "authorization",
    request_body(description = "XACML 3.0 request: the JSON profile, or the core schema's XML <Request> (docs/authorization.md#the-pdp)",
        content((serde_json::Value = "application/json"), (String = "application/xml"))),
    security(("bearer" = ["altinn:authorization/authorize"])),
    responses((status = 200, description = "XACML response in the form asked in (JSON, or an XML <Response>), one result per individual request, in order",
            content((serde_json::Value = "application/json"), (String = "application/xml"))),
        (status = 400, body = crate::problem::ProblemBody), (status = 401, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 413, body = crate::problem::ProblemBody),
        (status = 415, body = crate::problem::ProblemBody)))]
async fn decision(
    State(state): State<AppState>,
    caller: Scoped<AuthorizeScope>,
    body: DecisionBody,
) -> ApiResult<Response> {
    let text = body.body.text()?;
    let parsed = match body.form {
        Form::Json => Request::from_json(text),
        Form::Xml => Request::from_xml(text),
    };
    let request = parsed.map_err(|e| {
        ApiError::invalid_field(
            "STD-00030",
            "/Request",
            format!("the decision request is not valid: {e}"),
        )
    })?;
    let results = decide(&state, &caller, &request).await?;
    Ok(match body.form {
        Form::Json => axum::Json(to_json(&results)).into_response(),
        Form::Xml => (
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            to_xml(&results),
        )
            .into_response(),
    })
}

#[cfg(test)]
mod tests {
    use super::Form;

    #[test]
    fn decision_forms_are_told_apart_by_content_type() {
        for (content_type, form) in [
            ("application/json", Some(Form::Json)),
            ("application/json; charset=utf-8", Some(Form::Json)),
            ("application/xacml+json", Some(Form::Json)),
            ("application/xml", Some(Form::Xml)),
            ("text/xml; charset=utf-8", Some(Form::Xml)),
            ("application/xacml+xml", Some(Form::Xml)),
            ("text/plain", None),
            ("", None),
        ] {
            assert_eq!(Form::of(content_type), form, "{content_type}");
        }
    }
}
