import Foundation
import SpecModel

/// The approval rules, applied to checked approval files: pure, so the planner stays pure.
public struct SignedApprovals: ApprovalEvaluator {
    let approvals: [CheckedApproval]
    let now: Date
    /// The agent config's floor, for verdicts on stages the planner did not pass in.
    let floor: ProtectFloor
    /// Every first-parent commit of the watched branch, newest first: the promoted range is a Git range,
    /// whatever a spec's `source.paths` says (a committer narrowing them must not hide an author).
    let history: [Candidate]

    /// Bumped when `history` was rewritten (a force-push): the authors of a promoted range may differ.
    let historyGeneration: Int
    /// The approvals naming each pipeline (an approval naming none judges no stage's status).
    private let byPipeline: [String: [CheckedApproval]]

    init(
        approvals: [CheckedApproval], now: Date, floor: ProtectFloor = .none, history: [Candidate] = [],
        historyGeneration: Int = 0
    ) {
        self.approvals = approvals
        self.now = now
        self.floor = floor
        self.history = history
        self.historyGeneration = historyGeneration
        var byPipeline: [String: [CheckedApproval]] = [:]
        for checked in approvals {
            guard let pipeline = checked.approval?.pipeline else { continue }
            byPipeline[pipeline, default: []].append(checked)
        }
        self.byPipeline = byPipeline
    }

    /// The approvals naming `pipeline`; nil when one of them expires (its verdict changes with the clock).
    public func facts(pipeline: String) -> ApprovalFacts? {
        let naming = byPipeline[pipeline] ?? []
        guard !naming.contains(where: { $0.approval?.expires != nil }) else { return nil }
        return ApprovalFacts(historyGeneration: historyGeneration, approvals: naming)
    }

    /// `stage` is the effective stage (after the floor); the binding compares the spec's own stage.
    public func status(
        pipeline: Pipeline, stage: Stage, candidate: Candidate, current: String?, candidates: [Candidate]
    ) -> ApprovalStatus {
        let policy = stage.approvals
        let spec = pipeline.stage(named: stage.name) ?? stage
        let authors = Self.rangeAuthors(
            candidate: candidate.id, current: current, candidates: rangeSource(candidates))
        var status = ApprovalStatus(have: 0, need: stage.requiredApprovals, by: [])
        var counted: [String: String] = [:]
        for checked in approvals where Self.names(checked, pipeline.name, stage.name, candidate.id) {
            let verdict = judge(checked, stage: stage, spec: spec, authors: authors, counted: counted)
            guard verdict.accepted, let evidence = checked.evidence else {
                status.rejections.append("\(checked.file): \(verdict.reason)")
                if let stale = verdict.stale { status.stale.append(stale) }
                continue
            }
            counted[evidence.principal.lowercased()] = checked.file
            status.by.append(evidence.principal)
            status.evidence.append(evidence)
        }
        status.have = status.by.count
        status.eligible = (policy?.approvers ?? []).filter { approver in
            counted[approver.lowercased()] == nil && !authors.contains(approver.lowercased())
        }
        return status
    }

    /// Verdicts on every approval file, for the audit log (`approval.accepted` / `approval.rejected`).
    func judgements(_ pipelines: [PipelineInput], stages: [StageKey: StageRecord]) -> [ApprovalJudgement] {
        var counted: [String: [String: String]] = [:]
        return approvals.map { checked in
            guard let approval = checked.approval else { return verdict(checked, false, checked.rejection ?? "invalid") }
            guard let input = pipelines.first(where: { $0.name == approval.pipeline }), let pipeline = input.pipeline else {
                return verdict(checked, false, checked.rejection ?? "names unknown pipeline '\(approval.pipeline)'")
            }
            guard let spec = pipeline.stage(named: approval.stage) else {
                return verdict(checked, false, checked.rejection ?? "names unknown stage '\(approval.stage)' of \(pipeline.name)")
            }
            guard input.candidates.contains(where: { $0.id == approval.candidate }) else {
                let shown = String(approval.candidate.prefix(12))
                return verdict(
                    checked, false, checked.rejection ?? "names \(shown), which is not a candidate of \(pipeline.name)")
            }
            let stage = floor.apply(pipeline: pipeline.name, to: spec).stage
            let current = stages[StageKey(pipeline.name, stage.name)]?.current
            let authors = Self.rangeAuthors(
                candidate: approval.candidate, current: current, candidates: rangeSource(input.candidates))
            let scope = "\(pipeline.name)/\(stage.name)/\(approval.candidate)"
            let result = judge(checked, stage: stage, spec: spec, authors: authors, counted: counted[scope] ?? [:])
            if result.accepted { counted[scope, default: [:]][approval.approver.lowercased()] = checked.file }
            return verdict(checked, result.accepted, result.reason)
        }
    }

    private func verdict(_ checked: CheckedApproval, _ accepted: Bool, _ reason: String) -> ApprovalJudgement {
        ApprovalJudgement(
            file: checked.file, version: checked.version, approval: checked.approval, accepted: accepted, reason: reason)
    }

    /// The rules for one file naming this stage, in the order a person would check them.
    private func judge(
        _ checked: CheckedApproval, stage: Stage, spec: Stage, authors: Set<String>, counted: [String: String]
    ) -> Verdict {
        if let rejection = checked.rejection { return Verdict(rejection) }
        guard let approval = checked.approval else { return Verdict("invalid") }
        let principal = approval.approver.lowercased()
        if let expires = approval.expires, expires <= now {
            return Verdict("expired at \(AuditTime.format(expires))")
        }
        guard let policy = stage.approvals else { return Verdict("stage \(stage.name) does not take approvals") }
        guard policy.approvers.contains(where: { $0.lowercased() == principal }) else {
            return Verdict("\(approval.approver) is not an approver of stage \(stage.name)")
        }
        if policy.allowSelfApproval != true, authors.contains(principal) {
            return Verdict("\(approval.approver) authored a commit in the promoted range; self-approval is not allowed")
        }
        if let stale = binding(checked, approval, spec: spec) { return stale }
        if let earlier = counted[principal] {
            return Verdict("\(approval.approver) is already counted through \(earlier); each approver counts once")
        }
        return Verdict(accepted: "signed by \(approval.approver) with \(checked.evidence?.keyFingerprint ?? "?")")
    }

    /// Rejects an approval whose signed `stageDigest` is not the digest of the stage as it runs now.
    /// Only the signed bytes decide; the spec at the commit that added the file (when it is known and
    /// carries the same digest) only explains what changed.
    private func binding(_ checked: CheckedApproval, _ approval: Approval, spec: Stage) -> Verdict? {
        let current = ApprovalDigest.of(spec)
        guard let signed = approval.stageDigest else {
            return Verdict(
                "\(checked.file) does not say which stage spec \(approval.approver) approved (no stageDigest); "
                    + "sign a fresh approval with `pipeline-agent approve`, or add the digest from `pipeline-agent approval-digest`"
            )
        }
        guard signed != current else { return nil }
        let commit = checked.evidence?.addedIn ?? ""
        var changes: [(field: String, lines: [String])] = []
        if case .stage(let approved)? = checked.approvedSpec, ApprovalDigest.of(approved) == signed {
            changes = StageBinding.changes(from: approved, to: spec)
        }
        let stale = StaleApproval(
            approver: approval.approver, file: checked.file, commit: commit, changes: StageBinding.lines(of: changes))
        let what = changes.isEmpty ? "" : " (commit \(short(commit))): \(changes.map(\.field).joined(separator: ", ")) changed"
        return Verdict(
            "stage spec changed since approval by \(approval.approver)\(what); a fresh approval is needed "
                + "(it approved \(signed.prefix(19))…, the stage is now \(current.prefix(19))…)", stale: stale)
    }

    /// One file's verdict; a stale approval carries the difference for `plan` to show.
    struct Verdict {
        let accepted: Bool
        let reason: String
        var stale: StaleApproval? = nil

        init(_ rejection: String, stale: StaleApproval? = nil) {
            accepted = false
            reason = rejection
            self.stale = stale
        }

        init(accepted reason: String) {
            accepted = true
            self.reason = reason
        }
    }

    /// The commits a promoted range is cut from: the branch history, or the candidates when no history was given
    /// (planner tests that build approvals without a repository).
    private func rangeSource(_ candidates: [Candidate]) -> [Candidate] { history.isEmpty ? candidates : history }

    static func names(_ checked: CheckedApproval, _ pipeline: String, _ stage: String, _ candidate: String) -> Bool {
        guard let approval = checked.approval else { return false }
        return approval.pipeline == pipeline && approval.stage == stage && approval.candidate == candidate
    }

    /// Author e-mails (lowercased) of the commits after `current` up to and including `candidate`
    /// (`commits` newest first): just the candidate's when the stage never ran; every commit from the
    /// candidate back when `current` is not among them (older than the history kept): the stricter reading.
    static func rangeAuthors(candidate: String, current: String?, candidates commits: [Candidate]) -> Set<String> {
        guard let start = commits.firstIndex(where: { $0.id == candidate }) else { return [] }
        guard let current else { return [commits[start].authorEmail.lowercased()] }
        let end = commits.firstIndex { $0.id == current } ?? commits.count
        let range = end > start ? Array(commits[start..<end]) : [commits[start]]
        return Set(range.map { $0.authorEmail.lowercased() })
    }
}
