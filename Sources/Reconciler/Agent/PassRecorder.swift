import Crypto
import Foundation
import GitSource
import SpecModel

/// The *record* step of a pass: what the plan and its inputs mean for the audit log, the store and
/// the notification channels, each written once per change (across restarts, through the store's
/// once-keys and markers). The executor records promotions itself, through `PromotionRun.finish`.
final class PassRecorder {
    let audit: AuditLog
    let store: any StateStore
    let notifier: NotificationDispatcher
    let clock: @Sendable () -> Date
    /// "Once" keys already in the store: an idle pass then writes nothing to SQLite.
    private var knownAudited: Set<String> = []
    private var lastSpecDiagnostics: [Diagnostic]?

    init(audit: AuditLog, store: any StateStore, notifier: NotificationDispatcher, clock: @escaping @Sendable () -> Date) {
        self.audit = audit
        self.store = store
        self.notifier = notifier
        self.clock = clock
    }

    /// Records one pass; returns the head's spec errors.
    func record(_ snapshot: PassSnapshot, plan: Plan) throws -> [Diagnostic] {
        let inputs = snapshot.input.pipelines
        let errors = try recordSpecProblems(snapshot.catalog, head: snapshot.head)
        try recordApprovalVerdicts(snapshot.approvals.judgements(inputs, stages: snapshot.input.stages))
        let json = try plan.json(pretty: false)
        let previous = try store.lastPlan().flatMap(Plan.decode)
        if previous?.fingerprint != plan.fingerprint {
            try audit.append(AuditEvent("plan.changed", detail: ["plan": .string(json)]))
        }
        try store.saveLastPlan(json, at: clock())
        try recordStagePhases(plan)
        try recordTightenings(plan)
        try announceApprovalsNeeded(plan, inputs: inputs)
        return errors
    }

    /// A stage's health changed: the record first, then only the health column (a stale read of the
    /// stage can never overwrite its candidates), then the stage's channels.
    func healthChanged(_ change: HealthChange) throws {
        let action = change.action
        let checks = JSONValue.object(
            Dictionary(
                change.results.map { ($0.name, JSONValue.string("\($0.level.rawValue): \($0.message)")) },
                uniquingKeysWith: { $1 }))
        try audit.append(
            AuditEvent(
                "health.changed", pipeline: action.pipeline.name, stage: action.stage.name, candidate: action.candidate,
                detail: ["from": .string(change.from.rawValue), "to": .string(change.to.rawValue), "checks": checks]))
        try store.saveHealth(change.to, for: action.key)
        guard let channels = action.stage.notify, !channels.isEmpty else { return }
        let worst = change.results.filter { $0.health == change.to }.map { "\($0.name): \($0.message)" }
            .joined(separator: "; ")
        let why = worst.isEmpty ? "" : " (\(worst))"
        let severity: NotificationEvent.Severity = change.to == .critical ? .critical : change.to == .warning ? .warning : .info
        notifier.send(
            NotificationEvent(
                .healthChanged, pipeline: action.pipeline.name, stage: action.stage.name, candidate: action.candidate,
                summary: "\(action.key) health \(change.from.rawValue) → \(change.to.rawValue)\(why)",
                severity: severity, resolves: change.to == .healthy), to: channels)
    }

    /// The agent started or stopped.
    func lifecycle(_ type: String, detail: [String: JSONValue]) throws {
        try audit.append(AuditEvent(type, detail: detail))
    }

    /// The watched branch moved.
    func sourceFetched(_ result: FetchResult, branch: String) throws {
        try audit.append(
            AuditEvent(
                "source.fetched",
                detail: [
                    "branch": .string(branch), "from": result.before[branch].map { .string($0.hex) } ?? .null,
                    "to": result.after[branch].map { .string($0.hex) } ?? .null,
                ]))
    }

    /// Records and announces a source failure (the caller calls it once per change of the error);
    /// the last good state stays in force.
    func sourceFailed(_ error: Error, url: String, channels: Set<String>) throws {
        let text = "\(error)"
        try audit.append(AuditEvent("source.failed", detail: ["error": .string(text), "url": .string(url)]))
        guard !channels.isEmpty else { return }
        notifier.send(
            NotificationEvent(.sourceUnreachable, summary: "the source \(url) is unreachable: \(text)", severity: .warning),
            to: channels.sorted())
    }

    /// The approvals a promotion relied on were revoked between the plan and its start.
    func approvalsNoLongerHold(_ action: PromotionAction, _ status: ApprovalStatus) throws {
        try audit.append(
            AuditEvent(
                "gate.blocked", pipeline: action.pipeline.name, stage: action.stage.name, candidate: action.candidate,
                detail: [
                    "phase": .string(Phase.waitingApproval.rawValue),
                    "reason": .string("approvals no longer sufficient at start: \(status.have) of \(status.need)"),
                ]))
    }

    /// `policy.tightened` once per stage and set of tightenings: the spec is looser than the agent's floor.
    func recordTightenings(_ plan: Plan) throws {
        for pipeline in plan.pipelines {
            for stage in pipeline.stages where !stage.floor.isEmpty {
                let described = stage.floor.map(\.description)
                let key = "policy.tightened|\(pipeline.name)|\(stage.name)|\(described.joined(separator: "|"))"
                guard try firstTime(key) else { continue }
                try audit.append(
                    AuditEvent(
                        "policy.tightened", pipeline: pipeline.name, stage: stage.name,
                        detail: ["tightenings": .array(described.map(JSONValue.string))]))
            }
        }
    }

    /// "Approval needed" once per candidate and stage, to the stage's channels.
    func announceApprovalsNeeded(_ plan: Plan, inputs: [PipelineInput]) throws {
        for pipeline in plan.pipelines {
            let spec = inputs.first { $0.name == pipeline.name }?.pipeline
            for stage in pipeline.stages where stage.phase == .waitingApproval {
                guard let desired = stage.desired, let channels = spec?.stage(named: stage.name)?.notify, !channels.isEmpty,
                    try firstTime("notify|approval.needed|\(pipeline.name)|\(stage.name)|\(desired)")
                else { continue }
                notifier.send(
                    NotificationEvent(
                        .approvalNeeded, pipeline: pipeline.name, stage: stage.name, candidate: desired,
                        summary: "\(pipeline.name)/\(stage.name): \(stage.reason)", severity: .info), to: channels)
            }
        }
    }

    /// `approval.accepted` / `approval.rejected` once per file version and verdict.
    func recordApprovalVerdicts(_ judgements: [ApprovalJudgement]) throws {
        for judgement in judgements {
            let type = judgement.accepted ? "approval.accepted" : "approval.rejected"
            guard try firstTime("\(type)|\(judgement.file)|\(judgement.version)|\(judgement.reason)") else {
                continue
            }
            try audit.append(
                AuditEvent(
                    type, pipeline: judgement.approval?.pipeline, stage: judgement.approval?.stage,
                    // Only a verified signature makes the approver the actor; a rejected file's `approver` is a claim.
                    candidate: judgement.approval?.candidate,
                    actor: judgement.accepted ? (judgement.approval?.approver ?? "agent") : "agent",
                    detail: ["file": .string(judgement.file), "reason": .string(judgement.reason)]))
        }
    }

    /// True the first time `key` is seen, across restarts (the store keeps the keys).
    func firstTime(_ key: String) throws -> Bool {
        guard !knownAudited.contains(key) else { return false }
        let first = try store.markAudited(key)
        knownAudited.insert(key)
        return first
    }

    /// `spec.invalid` once per change of the head's spec errors, across restarts.
    func recordSpecProblems(_ catalog: SpecCatalog, head: ObjectID) throws -> [Diagnostic] {
        let errors = catalog.diagnostics.filter { $0.severity == .error && !AgentSession.isApprovalPath($0.file) }
        guard errors != lastSpecDiagnostics else { return errors }
        lastSpecDiagnostics = errors
        let digest = SHA256.hash(data: Data(errors.map(\.description).joined(separator: "\n").utf8)).hexString
        guard try store.marker("spec.invalid") != digest else { return errors }
        if !errors.isEmpty {
            try audit.append(
                AuditEvent(
                    "spec.invalid",
                    detail: ["commit": .string(head.hex), "diagnostics": .array(errors.map { .string($0.description) })]))
        }
        try store.setMarker("spec.invalid", digest)
        return errors
    }

    /// Stores each stage's phase; writes `gate.blocked` once per change of a stage's block.
    func recordStagePhases(_ plan: Plan) throws {
        let blocking: Set<Phase> = [.waitingUpstream, .waitingApproval, .waitingWindow, .frozen, .failed, .invalid, .drifted]
        let stages = try store.stages()
        for pipeline in plan.pipelines {
            for stage in pipeline.stages {
                let key = StageKey(pipeline.name, stage.name)
                let record = stages[key] ?? StageRecord(key: key)
                // The key leaves out countdowns ("opens in 3h 2m") so a waiting stage is recorded once.
                let blockKey = blocking.contains(stage.phase) ? "\(stage.phase.rawValue) \(stage.desired ?? "-")" : nil
                guard record.blockedReason != blockKey || record.phase != stage.phase.rawValue else { continue }
                if blockKey != nil, blockKey != record.blockedReason {
                    try audit.append(
                        AuditEvent(
                            "gate.blocked", pipeline: pipeline.name, stage: stage.name, candidate: stage.desired,
                            detail: ["phase": .string(stage.phase.rawValue), "reason": .string(stage.reason)]))
                }
                try store.savePhase(stage.phase.rawValue, blockedReason: blockKey, for: key)
            }
        }
    }
}
