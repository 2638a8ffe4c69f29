//! The request lifecycle's rule (`systembruker_domain::lifecycle::check`) as the use cases
//! ask it, before storage applies a transition: who may move a request or change request
//! on, and only a `New` one to an answer. Storage's conditional update still decides a
//! race between two callers that both passed the check.

use systembruker_domain::RuleError;
use systembruker_domain::lifecycle::{self, LifecycleError};
pub(crate) use systembruker_domain::lifecycle::{Party, Transition};
use systembruker_domain::systemuser::RequestStatus;

use crate::{AppError, AppResult};

/// What moves: a vendor's request or a change request (they refuse with their own codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Record {
    Request,
    ChangeRequest,
}

/// The status after `party` causes `transition` on a record now in `from`; AUTH-00013
/// (AUTH-00061 for a change request) when it is no longer `New`.
pub(crate) fn check(
    record: Record,
    from: RequestStatus,
    transition: Transition,
    party: Party,
) -> AppResult<RequestStatus> {
    lifecycle::check(from, transition, party).map_err(|err| match err {
        LifecycleError::NotNew(status) => match record {
            Record::Request => RuleError::RequestNotNew { status }.into(),
            Record::ChangeRequest => RuleError::ChangeRequestNotNew { status }.into(),
        },
        LifecycleError::NotAllowed(party, transition) => {
            AppError::Forbidden(format!("{party:?} may not {transition:?} a request"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answered_request_refuses_with_its_status() {
        let err = check(
            Record::Request,
            RequestStatus::Rejected,
            Transition::Accept,
            Party::EndUser,
        );
        assert!(matches!(
            err,
            Err(AppError::Rule(RuleError::RequestNotNew {
                status: RequestStatus::Rejected
            }))
        ));
        let err = check(
            Record::ChangeRequest,
            RequestStatus::Accepted,
            Transition::Reject,
            Party::EndUser,
        );
        assert!(matches!(
            err,
            Err(AppError::Rule(RuleError::ChangeRequestNotNew {
                status: RequestStatus::Accepted
            }))
        ));
    }

    #[test]
    fn a_party_may_only_make_its_own_transitions() {
        let err = check(
            Record::Request,
            RequestStatus::New,
            Transition::Accept,
            Party::Vendor,
        );
        assert!(matches!(err, Err(AppError::Forbidden(_))));
        assert_eq!(
            check(
                Record::Request,
                RequestStatus::New,
                Transition::Accept,
                Party::EndUser
            )
            .ok(),
            Some(RequestStatus::Accepted)
        );
    }
}
