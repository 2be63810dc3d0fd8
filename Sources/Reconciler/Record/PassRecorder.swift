import Crypto
import Foundation
import GitSource
import SpecModel

/// The *record* step of a pass: what the plan and its inputs mean as facts — audit records, state
/// changes, notifications — each written once per change (across restarts, through once-keys and
/// markers) by the one `Recorder`. Promotions are recorded by `PromotionRun` through the same recorder.
final class PassRecorder {
    let recorder: Recorder
    let clock: @Sendable () -> Date
    private var lastSpecDiagnostics: [Diagnostic]?
    /// The plan the last `plan.changed` compared with (loaded from the store once), and the text last saved.
    private var lastPlan: Plan??
    /// Valid specs saved by this process (the inputs are cached while the head stays, and so is their list).
    private var savedSpecs: Set<ValidSpec> = []
    /// The pass's changes that no record announces (valid specs, phases, the saved plan): written in one
    /// transaction at the end of `record` rather than one each (a sync apiece, four before a push's first step).
    private var unannounced: [StateChange] = []

    init(recorder: Recorder, clock: @escaping @Sendable () -> Date) {
        self.recorder = recorder
        self.clock = clock
    }

    private var store: any StateReader { recorder.state }

    /// Forgets what it remembered of the records it wrote: another agent recorded passes since (shared store).
    func forget() {
        lastSpecDiagnostics = nil
        lastPlan = nil
        savedSpecs = []
    }

    /// Records one pass; returns the head's spec errors. `unchanged`: pipelines planned from the same facts
    /// as in the last pass this recorder recorded, whose phases, tightenings and notices are recorded already.
    func record(_ snapshot: PassSnapshot, plan: Plan, unchanged: Set<String> = []) throws -> [Diagnostic] {
        let inputs = snapshot.input.pipelines
        unannounced = []
        for spec in snapshot.newlyValid where !savedSpecs.contains(spec) {
            unannounced.append(.validSpec(spec))
            savedSpecs.insert(spec)
        }
        let errors = try recordSpecProblems(snapshot.catalog, head: snapshot.head)
        try recordApprovalVerdicts(snapshot.approvals.judgements(inputs, stages: snapshot.input.stages))
        try recordPlanChanges(plan)
        try recordStagePhases(plan, skipping: unchanged)
        try recordTightenings(plan, skipping: unchanged)
        try announceApprovalsNeeded(plan, inputs: inputs, skipping: unchanged)
        try recorder.save(unannounced)
        unannounced = []
        return errors
    }

    /// `plan.changed` with only the stages that changed (a record of change, not of state: its size
    /// does not grow with the number of pipelines); the pipelines whose plan changed are saved for `status`.
    func recordPlanChanges(_ plan: Plan) throws {
        if lastPlan == nil { lastPlan = .some(try store.lastPlan()) }
        let (changed, removed) = plan.changes(since: lastPlan ?? nil)
        if !changed.isEmpty || !removed.isEmpty {
            let stages = changed.map { pipeline, stage in
                JSONValue.object([
                    "pipeline": .string(pipeline), "stage": .string(stage.name), "phase": .string(stage.phase.rawValue),
                    "current": stage.current.map(JSONValue.string) ?? .null,
                    "desired": stage.desired.map(JSONValue.string) ?? .null, "health": .string(stage.health.rawValue),
                    "approvals": .string("\(stage.approvals.have)/\(stage.approvals.need)"), "reason": .string(stage.reason),
                ])
            }
            try recorder.record(
                AuditEvent(
                    "plan.changed", detail: ["stages": .array(stages), "removed": .array(removed.map(JSONValue.string))]))
        }
        if let saved = try plannedPipelines(plan, previous: lastPlan ?? nil) { unannounced.append(saved) }
        lastPlan = .some(plan)
    }

    /// The pipelines whose plan differs from `previous`, as a change; nil when none does.
    private func plannedPipelines(_ plan: Plan, previous: Plan?) throws -> StateChange? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let (differing, removed) = plan.differingPipelines(since: previous)
        var changed: [String: String] = [:]
        for pipeline in differing {
            changed[pipeline.name] = String(decoding: try encoder.encode(pipeline), as: UTF8.self)
        }
        guard !changed.isEmpty || !removed.isEmpty else { return nil }
        return .planPipelines(changed: changed, removed: removed)
    }

    /// A stage's health changed: the record first, then only the health column (a stale read of the
    /// stage can never overwrite its candidates), then the stage's channels.
    func healthChanged(_ change: HealthChange) throws {
        let action = change.action
        let checks = JSONValue.object(
            Dictionary(
                change.results.map { ($0.name, JSONValue.string("\($0.level.rawValue): \($0.message)")) },
                uniquingKeysWith: { $1 }))
        try recorder.record(
            AuditEvent(
                "health.changed", pipeline: action.pipeline.name, stage: action.stage.name, candidate: action.candidate,
                detail: ["from": .string(change.from.rawValue), "to": .string(change.to.rawValue), "checks": checks]),
            then: .health(change.to, action.key))
        guard let channels = action.stage.notify, !channels.isEmpty else { return }
        let worst = change.results.filter { $0.health == change.to }.map { "\($0.name): \($0.message)" }
            .joined(separator: "; ")
        let why = worst.isEmpty ? "" : " (\(worst))"
        let severity: NotificationEvent.Severity = change.to == .critical ? .critical : change.to == .warning ? .warning : .info
        recorder.announce(
            NotificationEvent(
                .healthChanged, pipeline: action.pipeline.name, stage: action.stage.name, candidate: action.candidate,
                summary: "\(action.key) health \(change.from.rawValue) → \(change.to.rawValue)\(why)",
                severity: severity, resolves: change.to == .healthy), to: channels)
    }

    /// Step logs past `state.logRetention` are about to be removed (the record first, like any action).
    func logsPruning(_ promotions: [Int64], before cutoff: Date) throws {
        try recorder.record(
            AuditEvent(
                "logs.pruned",
                detail: [
                    "promotions": .array(promotions.map(JSONValue.int)), "modifiedBefore": .string(AuditTime.format(cutoff)),
                ]))
    }

    /// The agent started or stopped.
    func lifecycle(_ type: String, detail: [String: JSONValue]) throws {
        try recorder.record(AuditEvent(type, detail: detail))
    }

    /// The watched branch moved.
    func sourceFetched(_ result: FetchResult, branch: String) throws {
        try recorder.record(
            AuditEvent(
                "source.fetched",
                detail: [
                    "branch": .string(branch), "from": result.before[branch].map { .string($0.hex) } ?? .null,
                    "to": result.after[branch].map { .string($0.hex) } ?? .null,
                ]))
    }

    /// A fetch (or ref listing) succeeded.
    func sourceReached(url: String) throws {
        try recorder.save(.sourceState(SourceState(url: url, lastFetch: clock(), lastError: nil)))
    }

    /// Records a source failure, and announces it once per change of the error; the last good state
    /// stays in force. `channels` is asked only then.
    func sourceFailed(_ error: Error, url: String, channels: () -> Set<String>) throws {
        let text = "\(error)"
        let previous = try store.sourceState()
        let state = StateChange.sourceState(SourceState(url: url, lastFetch: previous?.lastFetch, lastError: text))
        guard previous?.lastError != text else { return try recorder.save(state) }
        try recorder.record(AuditEvent("source.failed", detail: ["error": .string(text), "url": .string(url)]), then: state)
        recorder.announce(
            NotificationEvent(.sourceUnreachable, summary: "the source \(url) is unreachable: \(text)", severity: .warning),
            to: channels().sorted())
    }

    /// An operator's retry: recorded with them as the actor, then in force for the planner.
    func retryRequested(_ request: RetryRequest, candidate: String) throws {
        let key = StageKey(request.pipeline, request.stage)
        try recorder.record(
            AuditEvent(
                "promotion.retryRequested", pipeline: request.pipeline, stage: request.stage, candidate: candidate,
                actor: request.by,
                detail: ["reason": .string(request.reason), "requestedAt": .string(AuditTime.format(request.at))]),
            then: .retry(
                RetryRecord(
                    key: key, candidate: candidate, requestedAt: clock(), requestedBy: request.by, reason: request.reason)))
    }

    /// A retry request the agent would not act on, and why.
    func retryRefused(_ request: RetryRequest, because reason: String) throws {
        try recorder.record(
            AuditEvent(
                "promotion.retryRefused", pipeline: request.pipeline, stage: request.stage, candidate: request.candidate,
                actor: request.by, detail: ["reason": .string(reason), "request": .string(request.reason)]))
    }

    /// The approvals a promotion relied on were revoked between the plan and its start.
    func approvalsNoLongerHold(_ action: PromotionAction, _ status: ApprovalStatus) throws {
        try recorder.record(
            AuditEvent(
                "gate.blocked", pipeline: action.pipeline.name, stage: action.stage.name, candidate: action.candidate,
                detail: [
                    "phase": .string(Phase.waitingApproval.rawValue),
                    "reason": .string("approvals no longer sufficient at start: \(status.have) of \(status.need)"),
                ]))
    }

    /// `policy.tightened` once per stage and set of tightenings: the spec is looser than the agent's floor.
    func recordTightenings(_ plan: Plan, skipping unchanged: Set<String> = []) throws {
        for pipeline in plan.pipelines where !unchanged.contains(pipeline.name) {
            for stage in pipeline.stages where !stage.floor.isEmpty {
                let described = stage.floor.map(\.description)
                let key = "policy.tightened|\(pipeline.name)|\(stage.name)|\(described.joined(separator: "|"))"
                guard try firstTime(key) else { continue }
                try recorder.record(
                    AuditEvent(
                        "policy.tightened", pipeline: pipeline.name, stage: stage.name,
                        detail: ["tightenings": .array(described.map(JSONValue.string))]))
            }
        }
    }

    /// "Approval needed" once per candidate and stage, to the stage's channels.
    func announceApprovalsNeeded(_ plan: Plan, inputs: [PipelineInput], skipping unchanged: Set<String> = []) throws {
        var specs: [String: Pipeline]?
        for pipeline in plan.pipelines
        where !unchanged.contains(pipeline.name) && pipeline.stages.contains(where: { $0.phase == .waitingApproval }) {
            if specs == nil {
                let named = inputs.compactMap { input in input.pipeline.map { (input.name, $0) } }
                specs = Dictionary(named, uniquingKeysWith: { $1 })
            }
            let spec = specs?[pipeline.name]
            for stage in pipeline.stages where stage.phase == .waitingApproval {
                guard let desired = stage.desired, let channels = spec?.stage(named: stage.name)?.notify, !channels.isEmpty,
                    try firstTime("notify|approval.needed|\(pipeline.name)|\(stage.name)|\(desired)")
                else { continue }
                recorder.announce(
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
            try recorder.record(
                AuditEvent(
                    type, pipeline: judgement.approval?.pipeline, stage: judgement.approval?.stage,
                    // Only a verified signature makes the approver the actor; a rejected file's `approver` is a claim.
                    candidate: judgement.approval?.candidate,
                    actor: judgement.accepted ? (judgement.approval?.approver ?? "agent") : "agent",
                    detail: ["file": .string(judgement.file), "reason": .string(judgement.reason)]))
        }
    }

    func firstTime(_ key: String) throws -> Bool {
        try recorder.firstTime(key)
    }

    /// `spec.invalid` once per change of the head's spec errors, across restarts.
    /// The head's spec errors (approval files are judged on their own).
    static func specErrors(_ catalog: SpecCatalog) -> [Diagnostic] {
        catalog.diagnostics.filter { $0.severity == .error && !AgentSession.isApprovalPath($0.file) }
    }

    func recordSpecProblems(_ catalog: SpecCatalog, head: ObjectID) throws -> [Diagnostic] {
        let errors = Self.specErrors(catalog)
        guard errors != lastSpecDiagnostics else { return errors }
        lastSpecDiagnostics = errors
        let digest = SHA256.hash(data: Data(errors.map(\.description).joined(separator: "\n").utf8)).hexString
        guard try store.marker("spec.invalid") != digest else { return errors }
        let marker = StateChange.marker("spec.invalid", digest)
        guard !errors.isEmpty else {
            try recorder.save(marker)
            return errors
        }
        try recorder.record(
            AuditEvent(
                "spec.invalid",
                detail: ["commit": .string(head.hex), "diagnostics": .array(errors.map { .string($0.description) })]),
            then: marker)
        return errors
    }

    /// Stores each stage's phase; writes `gate.blocked` once per change of a stage's block.
    func recordStagePhases(_ plan: Plan, skipping unchanged: Set<String> = []) throws {
        let blocking: Set<Phase> = [.waitingUpstream, .waitingApproval, .waitingWindow, .frozen, .failed, .invalid, .drifted]
        let stages = try store.stages()
        for pipeline in plan.pipelines where !unchanged.contains(pipeline.name) {
            for stage in pipeline.stages {
                let key = StageKey(pipeline.name, stage.name)
                let record = stages[key] ?? StageRecord(key: key)
                // The key leaves out countdowns ("opens in 3h 2m") so a waiting stage is recorded once.
                let blockKey = blocking.contains(stage.phase) ? "\(stage.phase.rawValue) \(stage.desired ?? "-")" : nil
                guard record.blockedReason != blockKey || record.phase != stage.phase.rawValue else { continue }
                let phase = StateChange.phase(stage.phase.rawValue, blockedReason: blockKey, key)
                guard blockKey != nil, blockKey != record.blockedReason else {
                    unannounced.append(phase)
                    continue
                }
                try recorder.record(
                    AuditEvent(
                        "gate.blocked", pipeline: pipeline.name, stage: stage.name, candidate: stage.desired,
                        detail: ["phase": .string(stage.phase.rawValue), "reason": .string(stage.reason)]),
                    then: phase)
            }
        }
    }
}
