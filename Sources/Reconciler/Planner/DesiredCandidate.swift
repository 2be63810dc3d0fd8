import Foundation
import SpecModel

/// Which candidate a stage should run, or why it has to wait for one.
struct DesiredCandidate {
    struct Waiting {
        let phase: Phase
        let reason: String
    }

    struct Outcome {
        var candidate: Candidate?
        var waiting: Waiting?
        var wakeAt: Date?
        var approvals: ApprovalSummary?
    }

    let context: StageContext

    func resolve() -> Outcome {
        let candidates = context.pipelineInput.candidates
        if let pin = context.stage.pin {
            guard let pinned = candidates.first(where: { $0.id == pin }) else {
                return Outcome(waiting: Waiting(phase: .invalid, reason: "pin \(short(pin)) is not a candidate of the branch"))
            }
            return pinnedOutcome(pinned)
        }
        guard let newest = candidates.first else {
            return Outcome(waiting: Waiting(phase: .waitingUpstream, reason: "no commit touches the source paths yet"))
        }
        let eligible = eligibleCandidates(candidates)
        guard !eligible.ready.isEmpty else {
            return Outcome(
                candidate: eligible.soaking.first?.candidate ?? newest,
                waiting: Waiting(phase: .waitingUpstream, reason: upstreamReason(newest, eligible.soaking.first)),
                wakeAt: eligible.soaking.map(\.until).min())
        }
        guard context.stage.promotionMode == .manual || context.stage.approvals != nil else {
            return Outcome(candidate: eligible.ready[0], wakeAt: eligible.soaking.map(\.until).min())
        }
        return approved(eligible.ready)
    }

    /// A pin moves a stage without upstream verification or approvals — except, on a stage the agent's
    /// floor protects, to a candidate that never ran there: a committer's pin is not an approval.
    private func pinnedOutcome(_ pinned: Candidate) -> Outcome {
        let protected = !context.input.floor.rules(pipeline: context.pipeline.name, stage: context.stage.name).isEmpty
        let ranHere = context.history.verified[context.key]?[pinned.id] != nil || context.record.current == pinned.id
        guard protected, !ranHere, context.stage.requiredApprovals > 0 else { return Outcome(candidate: pinned) }
        var outcome = approved([pinned])
        if let waiting = outcome.waiting {
            let why = "pin \(short(pinned.id)) never ran on this protected stage, so it needs approvals: "
            outcome.waiting = Waiting(phase: waiting.phase, reason: why + waiting.reason)
        }
        return outcome
    }

    /// Candidates verified upstream (all of them for a root stage), split by soak.
    private func eligibleCandidates(
        _ candidates: [Candidate]
    ) -> (ready: [Candidate], soaking: [(candidate: Candidate, until: Date)]) {
        guard let upstream = context.stage.from else { return (candidates, []) }
        let verified = context.history.verified[StageKey(context.pipeline.name, upstream)] ?? [:]
        let soak = context.stage.soak?.timeInterval ?? 0
        var ready: [Candidate] = []
        var soaking: [(Candidate, Date)] = []
        for candidate in candidates {
            guard let at = verified[candidate.id] else { continue }
            let until = at.addingTimeInterval(soak)
            if until <= context.input.now { ready.append(candidate) } else { soaking.append((candidate, until)) }
        }
        return (ready, soaking)
    }

    private func upstreamReason(_ newest: Candidate, _ soaking: (candidate: Candidate, until: Date)?) -> String {
        guard let upstream = context.stage.from else { return "waiting for a candidate" }
        if let soaking {
            let left = humanDuration(soaking.until.timeIntervalSince(context.input.now))
            return "soaking \(short(soaking.candidate.id)) after \(upstream) verified it: \(left) left"
        }
        return "waiting for \(upstream) to verify a candidate (newest: \(short(newest.id)))"
    }

    /// The newest ready candidate with enough approvals, when it is newer than what runs now;
    /// otherwise the stage waits for approvals of the newest ready candidate.
    private func approved(_ ready: [Candidate]) -> Outcome {
        let current = context.record.current
        let statuses = ready.lazy.map { candidate in
            (
                candidate,
                context.input.approvals.status(
                    pipeline: context.pipeline, stage: context.stage, candidate: candidate, current: current,
                    candidates: context.pipelineInput.candidates)
            )
        }
        let newest = statuses.first
        for (candidate, status) in statuses {
            if candidate.id == current { break }
            if status.isSatisfied {
                return Outcome(
                    candidate: candidate, approvals: ApprovalSummary(have: status.have, need: status.need, by: status.by))
            }
        }
        let status = newest?.1 ?? ApprovalStatus(have: 0, need: context.stage.requiredApprovals, by: [])
        let summary = ApprovalSummary(have: status.have, need: status.need, by: status.by, stale: status.stale)
        if ready[0].id == current { return Outcome(candidate: ready[0], approvals: summary) }
        let approvedBy = status.by.isEmpty ? "" : " (by \(status.by.joined(separator: ", ")))"
        let nobody = (context.stage.approvals?.approvers ?? []).isEmpty
        let eligible =
            nobody
            ? "; the stage names no approvers, so only a pin can move it"
            : status.eligible.isEmpty ? "" : "; eligible: " + status.eligible.joined(separator: ", ")
        let rejected = status.rejections.isEmpty ? "" : "; rejected: " + status.rejections.joined(separator: "; ")
        let reason =
            "waiting for approvals of \(short(ready[0].id)): \(status.have) of \(status.need)\(approvedBy)\(eligible)\(rejected)"
        return Outcome(candidate: ready[0], waiting: Waiting(phase: .waitingApproval, reason: reason), approvals: summary)
    }
}
