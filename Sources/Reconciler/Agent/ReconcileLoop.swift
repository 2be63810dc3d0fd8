import Crypto
import Foundation
import GitSource
import Logging
import SpecModel

/// What one `run --once` did.
public struct RunSummary: Sendable {
    public var promotions: [(key: StageKey, candidate: String, status: PromotionStatus, id: Int64)] = []
    /// How long listing refs (and fetching, when something moved) took.
    public var fetchDuration: Duration?
    public var plan: Plan?

    public var anyFailed: Bool { promotions.contains { $0.status != .succeeded } }
    /// Errors in the specs at the branch head (nothing new is promoted for their pipelines).
    public var invalidSpecs: [Diagnostic] = []
    /// When the next health check is due.
    public var nextHealthCheck: Date?

    /// The earliest time something may change by itself (soak, window, health check).
    public var nextWake: Date? { [plan?.nextWake, nextHealthCheck].compactMap { $0 }.min() }
}

/// Fetch, plan, promote, repeat until nothing can progress without waiting; every decision is audited.
public final class ReconcileLoop {
    let session: AgentSession
    let audit: AuditLog
    let executor: PromotionExecutor
    let health: HealthMonitor
    /// Delivers the stages' notifications; `run` drains it before exiting.
    public let notifier: NotificationDispatcher
    private var lastSpecDiagnostics: [Diagnostic]?
    /// The head's spec errors, as of the last pass.
    public private(set) var invalidSpecs: [Diagnostic] = []
    /// "Once" keys already in the store: an idle pass then writes nothing to SQLite.
    private var knownAudited: Set<String> = []
    private var recovered = false
    /// Told of every fetch's outcome as it happens (readiness must not wait for a long pass to end).
    public var onFetch: (@Sendable (Error?) -> Void)?

    public init(session: AgentSession, cancellation: CancellationFlag = CancellationFlag()) throws {
        self.session = session
        let environment = StepEnvironment(config: session.config)
        audit = try AuditLog(
            directory: session.config.stateDirectory, anchors: session.store, redactor: environment.redactor,
            logger: session.logger, clock: session.clock)
        notifier = NotificationDispatcher(
            config: session.config, audit: audit, redactor: environment.redactor, logger: session.logger)
        var context = ExecutionContext(
            store: session.store, audit: audit, stateDirectory: session.config.stateDirectory, environment: environment,
            clock: session.clock, logger: session.logger, cancellation: cancellation)
        context.notifier = notifier
        context.runner = session.runner
        executor = PromotionExecutor(context: context)
        health = HealthMonitor(context: context)
    }

    /// Records the start; a predecessor's unfinished promotions are finished at the first pass
    /// that can read the specs (the source may be unreachable right now).
    public func start() throws {
        try audit.append(
            AuditEvent("agent.started", detail: ["source": .string(session.mirror.url), "branch": .string(session.branch)]))
    }

    private func recoverIfNeeded() throws {
        guard !recovered else { return }
        let (inputs, _, _) = try session.pipelineInputs()
        let specs = Dictionary(uniqueKeysWithValues: inputs.compactMap { input in input.pipeline.map { (input.name, $0) } })
        try executor.recoverInterrupted(specs: specs, repository: session.openRepository())
        recovered = true
    }

    public func stop(reason: String) throws {
        try audit.append(AuditEvent("agent.stopped", detail: ["reason": .string(reason)]))
    }

    /// One fetch, then passes until quiescent.
    public func runOnce(maxPasses: Int = 100) throws -> RunSummary {
        var summary = RunSummary()
        let fetchStarted = ContinuousClock.now
        do {
            try sync()
            summary.fetchDuration = ContinuousClock.now - fetchStarted
        } catch let error as GitError where error.isTransient && (try? session.openRepository().branchTips().isEmpty) == false {
            // Unreachable, but the mirror holds the last good state: finish recovery, promote nothing new.
            try recoverIfNeeded()
            throw error
        }
        try recoverIfNeeded()
        summary.nextHealthCheck = try health.runDue(session.pipelineInputs().inputs, now: session.clock())
        for _ in 0..<maxPasses {
            let plan = try planAndRecord()
            summary.plan = plan
            summary.invalidSpecs = invalidSpecs
            guard !plan.actions.isEmpty, !executor.context.cancellation.isCancelled else { break }
            for action in plan.actions {
                guard let evidence = try approvalsHoldAtStart(action) else { continue }
                let status = try executor.execute(action, repository: session.openRepository(), approvals: evidence)
                summary.promotions.append((action.key, action.candidate, status.status, status.id))
                // The host failed (a full disk): stop here; the schedule retries the pass with backoff.
                if status.status == .hostFailed { throw HostFailure(key: action.key, candidate: action.candidate) }
            }
        }
        return summary
    }

    private func sync() throws {
        let result: FetchResult
        do {
            result = try session.sync()
            onFetch?(nil)
            try session.store.saveSourceState(SourceState(url: session.mirror.url, lastFetch: session.clock(), lastError: nil))
        } catch let error as AuditError {
            throw error
        } catch {
            onFetch?(error)
            let previous = try session.store.sourceState()
            try session.store.saveSourceState(
                SourceState(url: session.mirror.url, lastFetch: previous?.lastFetch, lastError: "\(error)"))
            if previous?.lastError != "\(error)" { try sourceFailed(error) }
            throw error
        }
        guard result.changed else { return }
        let branch = session.branch
        try audit.append(
            AuditEvent(
                "source.fetched",
                detail: [
                    "branch": .string(branch), "from": result.before[branch].map { .string($0.hex) } ?? .null,
                    "to": result.after[branch].map { .string($0.hex) } ?? .null,
                ]))
    }

    private func planAndRecord() throws -> Plan {
        let snapshot = try session.gather()
        let inputs = snapshot.input.pipelines
        invalidSpecs = try recordSpecProblems(snapshot.catalog, head: snapshot.head)
        try recordApprovalVerdicts(snapshot.approvals.judgements(inputs, stages: snapshot.input.stages))
        let plan = Planner.plan(snapshot.input)
        let json = try plan.json(pretty: false)
        let previous = try session.store.lastPlan().flatMap(Plan.decode)
        if previous?.fingerprint != plan.fingerprint {
            try audit.append(AuditEvent("plan.changed", detail: ["plan": .string(json)]))
        }
        try session.store.saveLastPlan(json, at: session.clock())
        try recordStagePhases(plan)
        try recordTightenings(plan)
        try announceApprovalsNeeded(plan, inputs: inputs)
        return plan
    }

    /// `policy.tightened` once per stage and set of tightenings: the spec is looser than the agent's floor.
    private func recordTightenings(_ plan: Plan) throws {
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
    private func announceApprovalsNeeded(_ plan: Plan, inputs: [PipelineInput]) throws {
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

    /// Records and announces a source failure once per change of the error; the last good state stays in force.
    private func sourceFailed(_ error: Error) throws {
        let text = "\(error)"
        try audit.append(AuditEvent("source.failed", detail: ["error": .string(text), "url": .string(session.mirror.url)]))
        let stages = (try? session.pipelineInputs().inputs)?.compactMap(\.pipeline).flatMap(\.spec.stages) ?? []
        let channels = Set(stages.flatMap { $0.notify ?? [] })
        guard !channels.isEmpty else { return }
        notifier.send(
            NotificationEvent(
                .sourceUnreachable, summary: "the source \(session.mirror.url) is unreachable: \(text)", severity: .warning),
            to: channels.sorted())
    }

    /// `approval.accepted` / `approval.rejected` once per file version and verdict.
    private func recordApprovalVerdicts(_ judgements: [ApprovalJudgement]) throws {
        for judgement in judgements {
            let type = judgement.accepted ? "approval.accepted" : "approval.rejected"
            guard try firstTime("\(type)|\(judgement.file)|\(judgement.version)|\(judgement.reason)") else {
                continue
            }
            try audit.append(
                AuditEvent(
                    type, pipeline: judgement.approval?.pipeline, stage: judgement.approval?.stage,
                    candidate: judgement.approval?.candidate, actor: judgement.approval?.approver ?? "agent",
                    detail: ["file": .string(judgement.file), "reason": .string(judgement.reason)]))
        }
    }

    /// Right before a promotion that needs approvals starts: fetch again and re-check them, so that
    /// an approval revoked (its file deleted) since the plan does not count. Returns what it relies on.
    private func approvalsHoldAtStart(_ action: PromotionAction) throws -> [ApprovalEvidence]? {
        guard action.reliesOnApprovals else { return [] }
        try sync()
        let (inputs, _, _) = try session.pipelineInputs()
        let candidates = inputs.first { $0.name == action.pipeline.name }?.candidates ?? []
        guard let candidate = candidates.first(where: { $0.id == action.candidate }) else { return nil }
        let status = try session.approvals(now: session.clock()).status(
            pipeline: action.pipeline, stage: action.stage, candidate: candidate, current: action.previous, candidates: candidates
        )
        if status.isSatisfied { return status.evidence }
        try audit.append(
            AuditEvent(
                "gate.blocked", pipeline: action.pipeline.name, stage: action.stage.name, candidate: action.candidate,
                detail: [
                    "phase": .string(Phase.waitingApproval.rawValue),
                    "reason": .string("approvals no longer sufficient at start: \(status.have) of \(status.need)"),
                ]))
        return nil
    }

    /// True the first time `key` is seen, across restarts (the store keeps the keys).
    private func firstTime(_ key: String) throws -> Bool {
        guard !knownAudited.contains(key) else { return false }
        let first = try session.store.markAudited(key)
        knownAudited.insert(key)
        return first
    }

    /// `spec.invalid` once per change of the head's spec errors, across restarts.
    private func recordSpecProblems(_ catalog: SpecCatalog, head: ObjectID) throws -> [Diagnostic] {
        let errors = catalog.diagnostics.filter { $0.severity == .error && !AgentSession.isApprovalPath($0.file) }
        guard errors != lastSpecDiagnostics else { return errors }
        lastSpecDiagnostics = errors
        let digest = SHA256.hash(data: Data(errors.map(\.description).joined(separator: "\n").utf8)).hexString
        guard try session.store.marker("spec.invalid") != digest else { return errors }
        if !errors.isEmpty {
            try audit.append(
                AuditEvent(
                    "spec.invalid",
                    detail: ["commit": .string(head.hex), "diagnostics": .array(errors.map { .string($0.description) })]))
        }
        try session.store.setMarker("spec.invalid", digest)
        return errors
    }

    /// Stores each stage's phase; writes `gate.blocked` once per change of a stage's block.
    private func recordStagePhases(_ plan: Plan) throws {
        let blocking: Set<Phase> = [.waitingUpstream, .waitingApproval, .waitingWindow, .frozen, .failed, .invalid, .drifted]
        var stages = try session.store.stages()
        for pipeline in plan.pipelines {
            for stage in pipeline.stages {
                let key = StageKey(pipeline.name, stage.name)
                var record = stages[key] ?? StageRecord(key: key)
                // The key leaves out countdowns ("opens in 3h 2m") so a waiting stage is recorded once.
                let blockKey = blocking.contains(stage.phase) ? "\(stage.phase.rawValue) \(stage.desired ?? "-")" : nil
                guard record.blockedReason != blockKey || record.phase != stage.phase.rawValue else { continue }
                record.phase = stage.phase.rawValue
                if blockKey != nil, blockKey != record.blockedReason {
                    try audit.append(
                        AuditEvent(
                            "gate.blocked", pipeline: pipeline.name, stage: stage.name, candidate: stage.desired,
                            detail: ["phase": .string(stage.phase.rawValue), "reason": .string(stage.reason)]))
                }
                record.blockedReason = blockKey
                stages[key] = record
                try session.store.saveStage(record)
            }
        }
    }
}

/// A promotion ended `host-failed`: the pass stops so that it is retried with backoff, not at once.
public struct HostFailure: Error, CustomStringConvertible {
    public let key: StageKey
    public let candidate: String

    public var description: String {
        "the promotion of \(candidate.prefix(12)) to \(key) stopped because of the host (see its audit records: "
            + "disk space, permissions); the pass is retried with backoff and the candidate will be promoted again"
    }
}
