import Foundation
import SpecModel

extension PromotionRun {
    /// Runs the stage's checks; returns why verification failed, or nil.
    func verify(notBefore: Date) throws -> String? {
        let runner = CheckRunner(
            checkout: checkoutPath, environment: environment, logDirectory: logDirectory, notBefore: notBefore,
            cancellation: context.cancellation, runner: context.runner, user: user, redactor: context.environment.redactor)
        var failures: [String] = []
        for check in action.stage.verify ?? [] {
            let result = runner.run(check)
            let detail: [String: JSONValue] = [
                "check": .string(check.name), "level": .string(result.level.rawValue), "message": .string(result.message),
                "measured": result.measured.map(JSONValue.int) ?? .null,
            ]
            try record(
                event(result.level == .failed ? "verify.failed" : "verify.passed", detail),
                then: .stepRun(
                    StepRunRecord(
                        promotionID: promotion.id, phase: "verify", name: check.name, attempt: 1, exitStatus: nil,
                        durationMs: 0, outputSHA256: nil, logPath: nil, result: "\(result.level.rawValue): \(result.message)")))
            if result.level == .failed { failures.append("verification \(check.name) failed: \(result.message)") }
        }
        return failures.isEmpty ? nil : failures.joined(separator: "; ")
    }

    /// The terminal record first (the log is the write-ahead record), then the store in one transaction:
    /// a crash between the two is rolled forward at the next start from the record.
    func succeed() throws -> PromotionStatus {
        try finish(.succeeded, reason: nil)
    }

    /// `environmental`: the host failed (a full disk), not the candidate: the promotion ends
    /// `host-failed`, which costs the candidate nothing; the pass stops and is retried with backoff.
    func fail(_ reason: String, rollback: Bool, environmental: Bool = false) throws -> PromotionStatus {
        if context.cancellation.isCancelled {
            // The agent is stopping: no new step (rollback included) starts; the next start retries once.
            return try finish(.interrupted, reason: "agent stopped: \(reason)")
        }
        let after: PromotionStatus = environmental ? .hostFailed : .failed
        guard rollback, !(action.stage.rollback ?? []).isEmpty else {
            return try finish(after, reason: rollback ? "\(reason); no rollback steps" : reason)
        }
        return try self.rollback(reason: reason, after: after)
    }

    /// Runs the rollback steps with `PA_PREVIOUS`; the stage stays on its previous candidate. `after`
    /// is what the promotion became before the rollback (failed, or interrupted by a dead agent); it is
    /// in `rollback.started`, so a rollback cut short by a crash is finished with the same outcome.
    func rollback(reason: String, after: PromotionStatus) throws -> PromotionStatus {
        let steps = action.stage.rollback ?? []
        guard !steps.isEmpty else { return try finish(after, reason: "\(reason); no rollback steps") }
        try record(
            event(
                "rollback.started",
                ["reason": .string(reason), "steps": .int(Int64(steps.count)), "outcome": .string(after.rawValue)]))
        let failure = try runSteps(steps, phase: "rollback")?.reason
        try record(
            event(
                "rollback.finished",
                ["result": .string(failure == nil ? "succeeded" : "failed"), "reason": failure.map(JSONValue.string) ?? .null]))
        let end = PromotionOutcome.afterRollback(after, reason: reason, rollbackFailure: failure)
        return try finish(end.status, reason: end.reason)
    }

    /// Writes the promotion's one terminal record, then its outcome to the store.
    func finish(_ status: PromotionStatus, reason: String?) throws -> PromotionStatus {
        var detail: [String: JSONValue] = ["status": .string(status.rawValue)]
        detail["reason"] = reason.map(JSONValue.string)
        if status == .succeeded { detail["previous"] = action.previous.map(JSONValue.string) ?? .null }
        try record(
            event(PromotionOutcome.terminalType(status), detail),
            then: .outcome(PromotionOutcome(promotion, status: status, reason: reason, at: context.clock())))
        return status
    }
}
