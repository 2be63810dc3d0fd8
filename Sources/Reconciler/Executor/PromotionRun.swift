import Crypto
import Foundation
import GitSource
import SpecModel

/// One promotion in progress: its checkout, log directory, deadline and audit trail.
struct PromotionRun {
    static let defaultStepTimeout: Duration = .seconds(30 * 60)

    let context: ExecutionContext
    let action: PromotionAction
    let promotion: PromotionRecord
    let checkoutPath: String
    let logDirectory: String
    let deadline: ContinuousClock.Instant?

    /// Set when a restarted agent finishes this promotion: its own checkout is reused if it is still there.
    let resuming: Bool
    /// A step's `step.finished` (and its step run) waits for the promotion's next record and shares its fsync:
    /// the next step's `step.started` is still durable before that step runs (decision 0013).
    let pending = PendingFacts()

    /// `checkoutPath` is fresh and unguessable (`CheckoutArea.newPath`), and named in `promotion.started`.
    init(
        context: ExecutionContext, action: PromotionAction, promotion: PromotionRecord, checkoutPath: String,
        resuming: Bool = false
    ) {
        self.context = context
        self.action = action
        self.promotion = promotion
        self.checkoutPath = checkoutPath
        self.resuming = resuming
        logDirectory = "\(context.stateDirectory)/logs/\(promotion.id)"
        deadline = action.stage.timeout.map { .now + .milliseconds($0.milliseconds) }
    }

    /// Holds the running step's process group id while it runs.
    var groupFile: String { "\(logDirectory)/running-step.pgid" }

    /// The OS user this stage's processes run as (nil: the agent's own).
    var user: StepUser? { context.isolation.user(for: action.key) }

    var environment: [String: String] {
        context.environment.variables(for: action, promotionID: promotion.id, checkout: checkoutPath)
    }

    /// Materialises the candidate; returns the time after which files are the steps' doing, so that
    /// results committed to the repository (older than that) never pass for fresh ones.
    @discardableResult
    func checkout(_ repository: GitRepository) throws -> Date {
        try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        try context.checkouts.materialize(
            action.candidate, into: checkoutPath, from: repository, owner: user, only: action.stage.checkout,
            resume: resuming)
        return Date()
    }

    /// Runs steps in order; returns why they failed, or nil.
    func runSteps(_ steps: [Step], phase: String) throws -> StepFailure? {
        for step in steps {
            if let failure = try runWithRetries(step, phase: phase) { return failure }
        }
        return nil
    }

    private func runWithRetries(_ step: Step, phase: String) throws -> StepFailure? {
        let attempts = (step.retries ?? 0) + 1
        for attempt in 1...attempts {
            switch try runOnce(step, phase: phase, attempt: attempt) {
            case .succeeded:
                return nil
            case .terminal(let reason):
                return StepFailure(reason: reason, environmental: false)
            case .environmental(let reason):
                return StepFailure(reason: reason, environmental: true)
            case .failed(let reason):
                guard attempt < attempts, !context.cancellation.isCancelled else {
                    return StepFailure(reason: reason, environmental: false)
                }
                Thread.sleep(forTimeInterval: min(30, pow(2, Double(attempt - 1))))
            }
        }
        return nil
    }

    private func runOnce(_ step: Step, phase: String, attempt: Int) throws -> StepResult {
        let logPath = "\(logDirectory)/\(phase)-\(step.name)-\(attempt).log"
        let (timeout, limitedByStage) = effectiveTimeout(step, phase: phase)
        let (held, heldChanges) = pending.take()
        let announcement = event(
            "step.started", ["step": .string(step.name), "phase": .string(phase), "attempt": .int(Int64(attempt))])
        let started = try context.recorder.recordBeforeStore(held + [announcement], then: heldChanges)
        let outcome = context.runner.run(
            CommandRequest(
                step.run, directory: step.workdir.map { "\(checkoutPath)/\($0)" } ?? checkoutPath, environment: environment,
                logPath: logPath, timeout: timeout, captureLimit: context.captureLimit, cancellation: context.cancellation,
                groupFile: groupFile, user: user, redactor: context.environment.redactor),
            whenStarted: started.make)
        try started.finish()
        let (digest, lastLine) = redactAndDigest(logPath)
        let result = StepResult(outcome, failure: describeFailure(outcome, step: step, limitedByStage: limitedByStage))
            .explained(by: lastLine, step: step.name)
        let failure = result.failure
        let durationMs = outcome.duration.wholeMilliseconds
        pending.add(
            event(
                "step.finished",
                [
                    "step": .string(step.name), "phase": .string(phase), "attempt": .int(Int64(attempt)),
                    "exitStatus": .int(Int64(outcome.exitStatus)), "durationMs": .int(durationMs),
                    "outputSHA256": .string(digest), "log": .string(logPath),
                    "result": .string(failure == nil ? "succeeded" : "failed"),
                    "droppedBytes": .int(Int64(outcome.droppedBytes)),
                ]),
            then: .stepRun(
                StepRunRecord(
                    promotionID: promotion.id, phase: phase, name: step.name, attempt: attempt, exitStatus: outcome.exitStatus,
                    durationMs: durationMs, outputSHA256: digest, logPath: logPath, result: failure ?? "succeeded")))
        return result
    }

    /// A step's own timeout, bounded by what is left of the promotion's — except for rollback
    /// steps, which must still run after the promotion ran out of time.
    private func effectiveTimeout(_ step: Step, phase: String) -> (Duration, Bool) {
        let own = step.timeout.map { Duration.milliseconds($0.milliseconds) } ?? Self.defaultStepTimeout
        guard let deadline, phase != "rollback" else { return (own, false) }
        let remaining = max(.zero, deadline - .now)
        return remaining < own ? (remaining, true) : (own, false)
    }

    private func describeFailure(_ outcome: ProcessOutcome, step: Step, limitedByStage: Bool) -> String? {
        switch outcome.ending {
        case .exited(0): return nil
        case .exited(let status): return "step \(step.name) exited with status \(status)"
        case .signalled(let signal): return "step \(step.name) was killed by signal \(signal)"
        case .timedOut:
            return limitedByStage
                ? "promotion timeout \(action.stage.timeout?.text ?? "") exceeded during step \(step.name)"
                : "step \(step.name) timed out after \(step.timeout?.text ?? "30m")"
        case .interrupted: return "step \(step.name) interrupted: the agent is stopping"
        case .couldNotStart(let reason): return "step \(step.name) could not start: \(reason)"
        }
    }

    /// Removes secrets from a step's log; returns the SHA-256 of what remains and its last
    /// non-empty line, shortened (what on-call reads first in a failure's reason).
    private func redactAndDigest(_ path: String) -> (digest: String, lastLine: String?) {
        guard let data = FileManager.default.contents(atPath: path) else { return ("", nil) }
        let text = String(decoding: data, as: UTF8.self)
        let clean = context.environment.redactor.redact(text)
        let bytes = clean == text ? data : Data(clean.utf8)
        if clean != text { try? bytes.write(to: URL(fileURLWithPath: path)) }
        let digest = SHA256.hash(data: bytes).hexString
        let last = clean.split(whereSeparator: \.isNewline).last { !$0.allSatisfy(\.isWhitespace) }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        return (digest, last.map { $0.count > 200 ? String($0.prefix(200)) + "…" : $0 })
    }

    /// Writes `event` (after any fact still pending, in the same fsync), then `changes`.
    func record(_ event: AuditEvent, then changes: StateChange...) throws {
        let (events, pendingChanges) = pending.take()
        try context.recorder.record(events + [event], then: pendingChanges + changes)
    }

    func event(_ type: String, _ detail: [String: JSONValue]) -> AuditEvent {
        var detail = detail
        detail["promotionId"] = .int(promotion.id)
        return AuditEvent(
            type, pipeline: action.pipeline.name, stage: action.stage.name, candidate: action.candidate, detail: detail)
    }
}

/// Facts of a promotion held back to share the next record's write (a finished step's record and row).
final class PendingFacts: @unchecked Sendable {
    private var events: [AuditEvent] = []
    private var changes: [StateChange] = []

    func add(_ event: AuditEvent, then change: StateChange) {
        events.append(event)
        changes.append(change)
    }

    /// The held facts, now no longer held.
    func take() -> ([AuditEvent], [StateChange]) {
        defer {
            events = []
            changes = []
        }
        return (events, changes)
    }
}
