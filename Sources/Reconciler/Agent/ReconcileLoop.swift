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

    /// True when nothing moved since the last pass (no commit, no approval, nothing due): nothing was planned.
    public var quiet = false

    /// The earliest time something may change by itself (soak, window, health check).
    public var nextWake: Date? { [plan?.nextWake, nextHealthCheck].compactMap { $0 }.min() }
}

/// Fetch, plan, promote, repeat until nothing can progress without waiting; every decision is audited.
public final class ReconcileLoop {
    let session: AgentSession
    /// The one writer of the audit log, the state store and the notifications.
    public let recorder: Recorder
    let executor: PromotionExecutor
    let health: HealthMonitor
    /// Sends signed checkpoints of the chain head, when the config names a witness.
    let witness: ChainWitness?
    /// Turns what each pass found and decided into facts for the recorder.
    let passRecorder: PassRecorder
    /// The head's spec errors, as of the last pass.
    public private(set) var invalidSpecs: [Diagnostic] = []
    private var recovered = false
    /// When step logs were last pruned (once a day).
    private var lastPrune: Date?
    /// The last plan's pipelines with the facts each was planned from (reused while those are unchanged).
    private var planMemo = PlanMemo()
    /// Set after a pass that left nothing to do: until something moves, the next pass is only the ref listing.
    private var quiet: QuietPoint?
    /// Told of every fetch's outcome as it happens (readiness must not wait for a long pass to end).
    public var onFetch: (@Sendable (Error?) -> Void)?
    /// The promotions under way (`execution.maxConcurrentPromotions` at once).
    let pool: PromotionPool
    /// Other agents sharing a PostgreSQL store: the lease, the duties, the takeover of dead agents' promotions.
    let membership: Membership
    /// What the promotions watch: the agent stopping, or this agent's lease running out (then reset on rejoining).
    private let promotionCancellation: CancellationFlag
    /// Told (on the heartbeat's thread) when the lease was lost or a dead agent's promotions are free; set before `start`.
    public var onMembershipChange: (@Sendable () -> Void)?
    /// Told (on a promotion's thread) when a promotion ends, so a service can pass again at once.
    public var onPromotionEnd: (@Sendable () -> Void)? {
        get { pool.onFinish }
        set { pool.onFinish = newValue }
    }

    public init(session: AgentSession, cancellation: CancellationFlag = CancellationFlag()) throws {
        self.session = session
        let environment = StepEnvironment(config: session.config)
        recorder = try Recorder(
            config: session.config, store: session.stateStore, redactor: environment.redactor, logger: session.logger,
            clock: session.clock)
        passRecorder = PassRecorder(recorder: recorder, clock: session.clock)
        membership = Membership(store: session.stateStore, config: session.config, logger: session.logger)
        promotionCancellation = CancellationFlag(gracePeriod: cancellation.gracePeriod, following: cancellation)
        var context = ExecutionContext(
            recorder: recorder, stateDirectory: session.config.stateDirectory, environment: environment,
            clock: session.clock, logger: session.logger, cancellation: promotionCancellation)
        context.runner = session.runner
        context.isolation = session.isolation
        context.checkouts = session.checkouts
        executor = PromotionExecutor(context: context)
        let pool = PromotionPool(limit: session.config.execution?.concurrentPromotions ?? 4)
        self.pool = pool
        let isolation = session.isolation
        session.stageBusy = { key in pool.isRunning(key) || pool.isBusy(isolation.user(for: key)?.name) }
        if let witnessConfig = session.config.witness {
            witness = try ChainWitness(
                config: witnessConfig, agentConfig: session.config, recorder: recorder, clock: session.clock,
                logger: session.logger)
        } else {
            witness = nil
        }
        health = HealthMonitor(context: context)
    }

    /// Records the start; a predecessor's unfinished promotions are finished at the first pass
    /// that can read the specs (the source may be unreachable right now).
    public func start() throws {
        let wake = onMembershipChange
        try membership.join { wake?() }
        try passRecorder.lifecycle(
            "agent.started", detail: ["source": .string(session.mirror.url), "branch": .string(session.branch)])
    }

    /// Alone: once, every promotion left running. Sharing a store: at every pass, the promotions of agents whose
    /// lease ran out, taken over first (each by one agent), and its own that it does not run.
    private func recoverIfNeeded() throws {
        guard !recovered || membership.isShared else { return }
        let pool = pool
        let taken: Set<Int64>? =
            membership.isShared
            ? Set(try membership.takeOrphans() + membership.strays(isRunning: { pool.isRunning($0) })) : nil
        if taken?.isEmpty != true {
            let inputs = try session.pipelineInputs().inputs
            let specs = Dictionary(uniqueKeysWithValues: inputs.compactMap { input in input.pipeline.map { (input.name, $0) } })
            try executor.recoverInterrupted(specs: specs, repository: session.openRepository(), only: taken)
            quiet = nil
        }
        if !recovered, !session.readOnly {
            session.checkouts.removeAll(legacy: "\(session.config.stateDirectory)/work")
        }
        recovered = true
    }

    /// This agent's lease ran out: its promotions belong to others now and every write for them is refused. It
    /// stops them (their steps are killed after the grace period), forgets what it cached, and joins again.
    private func rejoinIfLost() throws {
        guard membership.isLost else { return }
        promotionCancellation.cancel()
        pool.waitForAll()
        for promotion in pool.takeFinished() {
            session.logger.warning(
                "stopped a promotion this agent no longer owns", metadata: ["stage": "\(promotion.key)"])
        }
        promotionCancellation.reset()
        planMemo = PlanMemo()
        quiet = nil
        passRecorder.forget()
        try membership.rejoin()
    }

    /// Records the retries operators asked for since the last pass (and refuses those with nothing to retry);
    /// returns whether there were any. A request is removed only once recorded.
    private func takeRetryRequests() throws -> Bool {
        guard !session.readOnly else { return false }
        let pending = RetryRequests.pending(stateDirectory: session.config.stateDirectory)
        for (file, request) in pending {
            if let request {
                do {
                    let candidate = try RetryRequests.candidate(for: request, in: session.store)
                    try passRecorder.retryRequested(request, candidate: candidate)
                } catch let refusal as RetryRefusal {
                    try passRecorder.retryRefused(request, because: refusal.description)
                }
            } else {
                session.logger.warning("dropping an unreadable retry request", metadata: ["file": "\(file)"])
            }
            try? FileManager.default.removeItem(atPath: file)
        }
        return !pending.isEmpty
    }

    /// Once a day: removes the step logs of promotions finished longer ago than `state.logRetention`,
    /// after recording which (`logs.pruned`).
    private func pruneLogsIfDue(now: Date) throws {
        guard !session.readOnly, lastPrune.map({ now.timeIntervalSince($0) >= 86_400 }) ?? true else { return }
        lastPrune = now
        let retention = session.config.state.logRetention.map { TimeInterval($0.milliseconds) / 1000 }
        let cutoff = now.addingTimeInterval(-(retention ?? LogRetention.defaultRetention))
        let logs = "\(session.config.stateDirectory)/logs"
        let running = Set(try session.store.promotions().filter { $0.status == .running }.map(\.id))
        let expired = LogRetention.expired(in: logs, before: cutoff, keeping: running)
        guard !expired.isEmpty else { return }
        try passRecorder.logsPruning(expired, before: cutoff)
        for problem in LogRetention.remove(expired, in: logs) {
            session.logger.warning("cannot remove a pruned step log", metadata: ["problem": "\(problem)"])
        }
    }

    public func stop(reason: String) throws {
        defer { membership.leave() }
        // A lease lost just before stopping: the stop is recorded under a new one (the old may write nothing).
        if membership.isLost { try membership.rejoin() }
        try passRecorder.lifecycle("agent.stopped", detail: ["reason": .string(reason)])
        if membership.isCoordinator { witness?.checkpoint(force: true) }
    }

    /// Runs the health checks that are due and records what changed; returns whether something changed
    /// and when the next are due.
    func checkHealth(now: Date) throws -> (changed: Bool, next: Date?) {
        // A once-only duty: with agents sharing the store, the coordinator's.
        guard membership.isCoordinator else { return (false, nil) }
        // Stages other agents promote now wait too (the coordinator's own pool knows only its promotions).
        let elsewhere =
            membership.isShared ? Set(try session.store.promotions().filter { $0.status == .running }.map(\.key)) : []
        let busy = session.stageBusy
        let (changes, next) = try health.runDue(
            session.pipelineInputs().inputs, now: now, repository: session.openRepository(),
            skip: { elsewhere.contains($0) || busy($0) })
        for change in changes { try passRecorder.healthChanged(change) }
        return (!changes.isEmpty, next)
    }

    /// One fetch, then passes until quiescent.
    /// `waitForPromotions`: `run --once` waits for the promotions it started and passes again; a service
    /// returns while they run and is woken by `onPromotionEnd`.
    /// `fetchAtOnce`: a signed push webhook said the branch moved, so the fetch skips listing the refs first
    /// (one round trip to the remote instead of two).
    public func runOnce(
        maxPasses: Int = 100, waitForPromotions: Bool = true, fetchAtOnce: Bool = false
    ) throws
        -> RunSummary
    {
        // Tampering found by the background check of the older records stops the agent at the next pass.
        if let refusal = recorder.auditRefusal { throw refusal }
        try rejoinIfLost()
        if membership.becameCoordinator() {
            passRecorder.forget()
            planMemo = PlanMemo()
            quiet = nil
        }
        var summary = RunSummary()
        let fetchStarted = ContinuousClock.now
        do {
            try sync(fetchAtOnce: fetchAtOnce)
            summary.fetchDuration = ContinuousClock.now - fetchStarted
        } catch let error as GitError where error.isTransient && (try? session.openRepository().branchTips().isEmpty) == false {
            // Unreachable, but the mirror holds the last good state: finish recovery, promote nothing new.
            try recoverIfNeeded()
            throw error
        }
        try recoverIfNeeded()
        try pruneLogsIfDue(now: session.clock())
        if try takeRetryRequests() { quiet = nil }
        let (healthChanged, nextHealthCheck) = try checkHealth(now: session.clock())
        summary.nextHealthCheck = nextHealthCheck
        let tips = try session.openRepository().branchTips()
        if !healthChanged, let quiet, try quiet.holds(tips: tips, now: session.clock(), storeVersion: storeVersion()) {
            // Nothing moved: no commit, no approval, nothing due by the clock. The last plan still holds.
            summary.plan = quiet.plan
            summary.invalidSpecs = invalidSpecs
            summary.quiet = true
            return summary
        }
        quiet = nil
        do {
            try passes(maxPasses, tips: tips, waitForPromotions: waitForPromotions, into: &summary)
        } catch {
            // `run --once` must not return (and exit) while promotions it started still run.
            if waitForPromotions { pool.waitForAll() }
            throw error
        }
        return summary
    }

    private func passes(
        _ maxPasses: Int, tips: [String: ObjectID], waitForPromotions: Bool, into summary: inout RunSummary
    ) throws {
        for _ in 0..<maxPasses {
            try collectFinished(into: &summary)
            let endedBeforePlan = pool.endedCount
            // Read before the plan's inputs: a write by another agent after them must end the quiet point.
            let versionBeforePlan = try storeVersion()
            let plan = try planAndRecord()
            summary.plan = plan
            summary.invalidSpecs = invalidSpecs
            if plan.actions.isEmpty, pool.isEmpty {
                quiet = try QuietPoint(after: plan, tips: tips, session: session, storeVersion: versionBeforePlan)
            }
            var waiting = plan.actions
            var startedAny = false
            // The plan's actions are started as room frees up, as one serial pass ran all of them; planning
            // again after each promotion would cost a pass over every pipeline per promotion.
            while !waiting.isEmpty, !executor.context.cancellation.isCancelled {
                let left = try startPromotions(waiting)
                startedAny = startedAny || left.count < waiting.count
                waiting = left
                guard waitForPromotions, !waiting.isEmpty, !pool.isEmpty else { break }
                pool.waitForAny()
                try collectFinished(into: &summary)
            }
            // A service returns to its schedule: a promotion's end wakes it for the next pass. `run --once` passes
            // again while promotions run, and once more when one ended after this plan was made (it planned
            // that stage as still promoting, and stopping here left that in the recorded plan).
            guard waitForPromotions, startedAny || !pool.isEmpty || pool.endedCount != endedBeforePlan else { break }
            if !pool.isEmpty { pool.waitForAny() }
        }
        try collectFinished(into: &summary)
    }

    /// Starts the actions that have room; returns those that wait for room (the pool is full, or their
    /// step user is busy). An action whose approvals no longer hold is dropped (recorded).
    private func startPromotions(_ actions: [PromotionAction]) throws -> [PromotionAction] {
        var waiting: [PromotionAction] = []
        for action in actions where !pool.isRunning(action.key) {
            let user = executor.context.isolation.user(for: action.key)?.name
            guard pool.count < pool.limit, !pool.isBusy(user) else {
                waiting.append(action)
                continue
            }
            guard let evidence = try approvalsHoldAtStart(action) else { continue }
            let executor = executor
            let mirror = session.mirror
            // The start is recorded here, before the next plan reads the promotions (a promotion whose row
            // its own thread wrote later was planned again and ran twice).
            let begun = try pool.start(
                action.key, candidate: action.candidate, user: user,
                begin: { try executor.begin(action, approvals: evidence) }
            ) { begun in
                // Each promotion reads the mirror through its own handle: libgit2's are not shared between threads.
                try executor.finish(begun, repository: mirror.open())
            }
            if begun == .noRoom { waiting.append(action) }
        }
        return waiting
    }

    /// Takes the promotions that ended into `summary`; a host failure stops the pass (retried with backoff).
    private func collectFinished(into summary: inout RunSummary) throws {
        let finished = pool.takeFinished()
        guard !finished.isEmpty else { return }
        quiet = nil
        for promotion in finished {
            if case .failure(let fenced as FencedWrite) = promotion.result {
                // This agent lost the promotion to another (its lease ran out); the other records its end.
                session.logger.warning("a promotion's write was refused", metadata: ["reason": "\(fenced)"])
                continue
            }
            let outcome = try promotion.result.get()
            summary.promotions.append((promotion.key, promotion.candidate, outcome.status, outcome.id))
            if membership.isCoordinator { witness?.checkpoint(force: true) }
            if outcome.status == .hostFailed { throw HostFailure(key: promotion.key, candidate: promotion.candidate) }
        }
    }

    /// With agents sharing the store, the chain's head: another agent's record may change the plan, so a quiet
    /// point holds only while nobody wrote. Nil alone (only this agent's passes change the store).
    private func storeVersion() throws -> Int64? {
        guard membership.isShared else { return nil }
        return try session.store.auditAnchor()?.seq ?? 0
    }

    /// Waits for every running promotion to end (they stop within the grace period once cancelled).
    public func waitForPromotions() throws {
        pool.waitForAll()
        var ignored = RunSummary()
        try collectFinished(into: &ignored)
    }

    private func sync(fetchAtOnce: Bool = false) throws {
        let result: FetchResult
        do {
            result = try session.sync(fetchAtOnce: fetchAtOnce)
            onFetch?(nil)
            if membership.isCoordinator { try passRecorder.sourceReached(url: session.mirror.url) }
        } catch let error as AuditError {
            throw error
        } catch {
            onFetch?(error)
            guard membership.isCoordinator else { throw error }
            try passRecorder.sourceFailed(error, url: session.mirror.url) {
                let stages = (try? session.pipelineInputs().inputs)?.compactMap(\.pipeline).flatMap(\.spec.stages) ?? []
                return Set(stages.flatMap { $0.notify ?? [] })
            }
            throw error
        }
        if result.changed, membership.isCoordinator { try passRecorder.sourceFetched(result, branch: session.branch) }
    }

    /// gather → plan → record: one pass's inputs, the pure plan, and what changed, written once.
    private func planAndRecord() throws -> Plan {
        let snapshot = try session.gather()
        let (plan, memo) = Planner.plan(snapshot.input, memo: planMemo)
        // Debug builds (the tests) check every reusing plan against a plan made from scratch.
        assert(plan == Planner.plan(snapshot.input), "a plan reusing unchanged pipelines differs from a fresh one")
        guard membership.isCoordinator else {
            // Another agent records the passes (once, not once per agent); this one only acts on the plan.
            invalidSpecs = PassRecorder.specErrors(snapshot.catalog)
            return plan
        }
        invalidSpecs = try passRecorder.record(snapshot, plan: plan, unchanged: memo.reusedPipelines)
        // Kept only once recorded: a pass whose record failed leaves the next to record every pipeline it changed.
        planMemo = memo
        witness?.checkpoint(force: false)
        return plan
    }

    /// Right before a promotion that needs approvals starts: fetch again and re-check them, so that
    /// an approval revoked (its file deleted) since the plan does not count. Returns what it relies on.
    private func approvalsHoldAtStart(_ action: PromotionAction) throws -> [ApprovalEvidence]? {
        guard action.reliesOnApprovals else { return [] }
        try sync()
        let inputs = try session.pipelineInputs().inputs
        let candidates = inputs.first { $0.name == action.pipeline.name }?.candidates ?? []
        guard let candidate = candidates.first(where: { $0.id == action.candidate }) else { return nil }
        let status = try session.approvals(now: session.clock()).status(
            pipeline: action.pipeline, stage: action.stage, candidate: candidate, current: action.previous, candidates: candidates
        )
        if status.isSatisfied { return status.evidence }
        try passRecorder.approvalsNoLongerHold(action, status)
        return nil
    }

}
