import Foundation
import GitSource
import Logging
import SpecModel

/// What the executor needs from the agent: the recorder (its only way to write), where to put files.
public struct ExecutionContext: Sendable {
    /// Writes every record, state change and notification of a promotion.
    public let recorder: Recorder
    /// The state as recorded, read-only.
    public var store: any StateReader { recorder.state }
    public let stateDirectory: String
    public let environment: StepEnvironment
    public let clock: @Sendable () -> Date
    public let logger: Logger
    public let cancellation: CancellationFlag
    /// Step output kept per run; the rest is dropped (and counted).
    public var captureLimit = 5 << 20
    /// Starts every process: steps, checks, rollback, health checks.
    public var runner: any CommandRunner = SystemCommandRunner()
    /// Which OS user each stage's processes run as.
    public var isolation: StepIsolation = .none
    /// Where candidates are checked out (default `<state>-work`).
    public var checkouts: CheckoutArea

    public init(
        recorder: Recorder, stateDirectory: String, environment: StepEnvironment,
        clock: @escaping @Sendable () -> Date, logger: Logger, cancellation: CancellationFlag
    ) {
        self.recorder = recorder
        self.stateDirectory = stateDirectory
        self.environment = environment
        self.clock = clock
        self.logger = logger
        self.cancellation = cancellation
        self.checkouts = CheckoutArea(root: stateDirectory + "-work")
    }
}

/// The only place that runs promotion processes: checkout, steps, verification, rollback.
public struct PromotionExecutor: Sendable {
    let context: ExecutionContext

    public init(context: ExecutionContext) {
        self.context = context
    }

    /// Runs one promotion to its end and returns how it ended.
    public func execute(
        _ action: PromotionAction, repository: GitRepository, approvals: [ApprovalEvidence] = []
    ) throws -> (status: PromotionStatus, id: Int64) {
        guard let begun = try begin(action, approvals: approvals) else { throw PromotionTaken(key: action.key) }
        return try finish(begun, repository: repository)
    }

    /// Writes the promotion's row and `promotion.started` (one durable write): from here on the stage is
    /// promoting for every reader, so a plan made before the steps run cannot ask for it again. Nil when another
    /// agent sharing the store claimed the stage since the plan.
    func begin(_ action: PromotionAction, approvals: [ApprovalEvidence]) throws -> BegunPromotion? {
        let checkout = context.checkouts.newPath()
        let runAs = context.isolation.user(for: action.key)?.name ?? "agent"
        let claimed = try context.recorder.startPromotion(
            action, specDigest: StageDigest.of(action.stage), at: context.clock()
        ) {
            event(
                "promotion.started", action,
                [
                    "promotionId": .int($0.id), "previous": action.previous.map(JSONValue.string) ?? .null,
                    "approvals": .array(approvals.map(\.json)), "specDigest": .string($0.specDigest),
                    "checkout": .string(checkout), "runAs": .string(runAs),
                ])
        }
        guard let promotion = claimed else { return nil }
        notify(.promotionStarted, action, "\(action.key): promoting \(short(action.candidate))", .info)
        return BegunPromotion(action: action, promotion: promotion, checkout: checkout)
    }

    /// Checks out, runs the steps, verifies, rolls back when needed, and records the end.
    func finish(_ begun: BegunPromotion, repository: GitRepository) throws -> (status: PromotionStatus, id: Int64) {
        let (action, checkout) = (begun.action, begun.checkout)
        let run = PromotionRun(context: context, action: action, promotion: begun.promotion, checkoutPath: checkout)
        let (status, reason) = try execute(run, repository: repository)
        // Only after the terminal record: a crash before it leaves the checkout for this promotion's resume.
        context.checkouts.remove(checkout)
        let why = reason.map { ": \($0)" } ?? ""
        switch status {
        case .succeeded:
            notify(
                .promotionSucceeded, action, "\(action.key): \(short(action.candidate)) promoted and verified", .info,
                resolves: true)
        case .rolledBack:
            notify(
                .promotionRolledBack, action, "\(action.key): \(short(action.candidate)) failed and was rolled back\(why)", .error
            )
        default:
            notify(
                .promotionFailed, action, "\(action.key): \(short(action.candidate)) failed (\(status.rawValue))\(why)", .error)
        }
        return (status, begun.promotion.id)
    }

    /// How the promotion ended, and why when it failed (for the people notified).
    private func execute(_ run: PromotionRun, repository: GitRepository) throws -> (PromotionStatus, String?) {
        let stepsFrom: Date
        do {
            stepsFrom = try run.checkout(repository)
        } catch let error as AuditError {
            throw error
        } catch {
            // The host's fault (disk, permissions), not the candidate's: interrupted, retried once.
            let reason = "checkout failed: \(error)"
            return (try run.fail(reason, rollback: false, environmental: true), reason)
        }
        if let failure = try run.runSteps(run.action.stage.steps, phase: "step") {
            return (try run.fail(failure.reason, rollback: true, environmental: failure.environmental), failure.reason)
        }
        if let failure = try run.verify(notBefore: stepsFrom) {
            return (try run.fail(failure, rollback: true), failure)
        }
        return (try run.succeed(), nil)
    }

    private func notify(
        _ kind: NotificationEvent.Kind, _ action: PromotionAction, _ summary: String, _ severity: NotificationEvent.Severity,
        resolves: Bool = false
    ) {
        guard let channels = action.stage.notify else { return }
        context.recorder.announce(
            NotificationEvent(
                kind, pipeline: action.pipeline.name, stage: action.stage.name, candidate: action.candidate, summary: summary,
                severity: severity, resolves: resolves), to: channels)
    }

    func event(_ type: String, _ action: PromotionAction, _ detail: [String: JSONValue]) -> AuditEvent {
        AuditEvent(type, pipeline: action.pipeline.name, stage: action.stage.name, candidate: action.candidate, detail: detail)
    }
}

/// Another agent sharing the store promoted the stage since the plan: this one starts nothing there.
public struct PromotionTaken: Error, CustomStringConvertible {
    public let key: StageKey
    public var description: String { "another agent claimed \(key) first" }
}

/// A promotion whose start is recorded and whose steps have not run yet.
struct BegunPromotion: Sendable {
    let action: PromotionAction
    let promotion: PromotionRecord
    let checkout: String
}
