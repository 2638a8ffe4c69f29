//! The lifecycle of a vendor's request and of a change request, in one place.
//!
//! Both start `New`. From there exactly one answer closes them: the end user accepts or
//! rejects, the clock times them out, or the deletion of their system denies them. The
//! vendor may withdraw (delete) one at any time, and deleting a system user releases
//! the request it came from, so that its key can be requested again. Escalating a
//! request to the access managers keeps it `New`.
//!
//! [`check`] is the rule; storage applies a [`Transition`] with a conditional update
//! built from [`Transition::needs_new`] and [`Transition::target`], so a request that
//! another caller closed first is not closed twice.

use crate::systemuser::RequestStatus;

/// Something that happens to a request or change request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transition {
    /// The end user approves: `Accepted`.
    Accept,
    /// The end user says no: `Rejected`.
    Reject,
    /// Nobody answered in time: `Timedout`.
    TimeOut,
    /// The request's system was deleted, so it can never be approved: `Denied`.
    Deny,
    /// An end user without the rights hands it to the access managers; it stays `New`.
    Escalate,
    /// The vendor withdraws it; the status stays as it was, the row is marked deleted.
    Delete,
    /// Its system user was deleted; like [`Transition::Delete`], the key becomes free.
    Release,
}

/// Who causes a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Party {
    /// The vendor of the request's system (through Maskinporten).
    Vendor,
    /// A person acting for the organisation the request is addressed to.
    EndUser,
    /// The platform, when a request's time has run out.
    Clock,
    /// The system register, when the request's system is deleted.
    Register,
}

/// Why a transition is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleError {
    /// The request was answered already (or timed out): only `New` ones move on.
    NotNew(RequestStatus),
    /// This party may not cause this transition.
    NotAllowed(Party, Transition),
}

impl Transition {
    /// Whether the request must still be `New` (unanswered). Only deleting and releasing
    /// work on answered ones too.
    pub fn needs_new(self) -> bool {
        !matches!(self, Self::Delete | Self::Release)
    }

    /// The status after the transition; `None` when the status stays.
    pub fn target(self) -> Option<RequestStatus> {
        match self {
            Self::Accept => Some(RequestStatus::Accepted),
            Self::Reject => Some(RequestStatus::Rejected),
            Self::TimeOut => Some(RequestStatus::Timedout),
            Self::Deny => Some(RequestStatus::Denied),
            Self::Escalate | Self::Delete | Self::Release => None,
        }
    }

    /// The transition that sets `status`, for callers that name the status they want.
    pub fn to(status: RequestStatus) -> Option<Self> {
        match status {
            RequestStatus::Accepted => Some(Self::Accept),
            RequestStatus::Rejected => Some(Self::Reject),
            RequestStatus::Timedout => Some(Self::TimeOut),
            RequestStatus::Denied => Some(Self::Deny),
            RequestStatus::New | RequestStatus::NoChangeNeeded => None,
        }
    }

    /// Whether `party` may cause this transition.
    pub fn allowed_for(self, party: Party) -> bool {
        match self {
            Self::Accept | Self::Reject | Self::Escalate | Self::Release => party == Party::EndUser,
            Self::TimeOut => party == Party::Clock,
            Self::Deny => party == Party::Register,
            Self::Delete => party == Party::Vendor,
        }
    }
}

/// The status a request in `from` has after `party` causes `transition`.
pub fn check(
    from: RequestStatus,
    transition: Transition,
    party: Party,
) -> Result<RequestStatus, LifecycleError> {
    if !transition.allowed_for(party) {
        return Err(LifecycleError::NotAllowed(party, transition));
    }
    if transition.needs_new() && from != RequestStatus::New {
        return Err(LifecycleError::NotNew(from));
    }
    Ok(transition.target().unwrap_or(from))
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequestStatus::*;

    const ANSWERED: [RequestStatus; 4] = [Accepted, Rejected, Timedout, Denied];

    #[test]
    fn the_end_user_accepts_or_rejects_a_new_request() {
        assert_eq!(check(New, Transition::Accept, Party::EndUser), Ok(Accepted));
        assert_eq!(check(New, Transition::Reject, Party::EndUser), Ok(Rejected));
    }

    #[test]
    fn only_the_clock_times_a_request_out() {
        assert_eq!(check(New, Transition::TimeOut, Party::Clock), Ok(Timedout));
        for party in [Party::Vendor, Party::EndUser, Party::Register] {
            assert_eq!(
                check(New, Transition::TimeOut, party),
                Err(LifecycleError::NotAllowed(party, Transition::TimeOut))
            );
        }
    }

    #[test]
    fn deleting_its_system_denies_a_new_request() {
        assert_eq!(check(New, Transition::Deny, Party::Register), Ok(Denied));
    }

    #[test]
    fn an_answered_request_cannot_be_answered_again() {
        for from in ANSWERED {
            for (transition, party) in [
                (Transition::Accept, Party::EndUser),
                (Transition::Reject, Party::EndUser),
                (Transition::Escalate, Party::EndUser),
                (Transition::TimeOut, Party::Clock),
                (Transition::Deny, Party::Register),
            ] {
                assert_eq!(
                    check(from, transition, party),
                    Err(LifecycleError::NotNew(from)),
                    "{transition:?} from {from:?}"
                );
            }
        }
    }

    #[test]
    fn escalating_keeps_a_request_new() {
        assert_eq!(check(New, Transition::Escalate, Party::EndUser), Ok(New));
    }

    #[test]
    fn the_vendor_deletes_a_request_in_any_status_and_keeps_its_status() {
        for from in [New, Accepted, Rejected, Timedout, Denied] {
            assert_eq!(check(from, Transition::Delete, Party::Vendor), Ok(from));
        }
    }

    #[test]
    fn the_vendor_neither_accepts_nor_rejects() {
        for transition in [Transition::Accept, Transition::Reject] {
            assert_eq!(
                check(New, transition, Party::Vendor),
                Err(LifecycleError::NotAllowed(Party::Vendor, transition))
            );
        }
    }

    #[test]
    fn deleting_a_system_user_releases_its_accepted_request() {
        assert_eq!(
            check(Accepted, Transition::Release, Party::EndUser),
            Ok(Accepted)
        );
    }

    #[test]
    fn every_closing_status_has_its_transition() {
        for status in ANSWERED {
            let transition = Transition::to(status).expect("a transition");
            assert_eq!(transition.target(), Some(status));
        }
        assert_eq!(Transition::to(New), None);
        assert_eq!(Transition::to(NoChangeNeeded), None);
    }
}
