import Foundation
import SpecModel

extension PromotionRun {
    /// Runs the stage's checks; returns why verification failed, or nil.
    func verify(notBefore: Date) throws -> String? {
        let runner = CheckRunner(
            checkout: checkoutPath, environment: environment, logDirectory: logDirectory, notBefore: notBefore,
            cancellation: context.cancellation)
        var failures: [String] = []
        for check in action.stage.verify ?? [] {
            let result = runner.run(check)
            let detail: [String: JSONValue] = [
                "check": .string(check.name), "level": .string(result.level.rawValue), "message": .string(result.message),
                "measured": result.measured.map(JSONValue.int) ?? .null,
            ]
            try context.audit.append(event(result.level == .failed ? "verify.failed" : "verify.passed", detail))
            try context.store.recordStepRun(
                StepRunRecord(
                    promotionID: promotion.id, phase: "verify", name: check.name, attempt: 1, exitStatus: nil, durationMs: 0,
                    outputSHA256: nil, logPath: nil, result: "\(result.level.rawValue): \(result.message)"))
            if result.level == .failed { failures.append("verification \(check.name) failed: \(result.message)") }
        }
        return failures.isEmpty ? nil : failures.joined(separator: "; ")
    }

    func succeed() throws -> PromotionStatus {
        let now = context.clock()
        var stages = try context.store.stages()
        var record = stages[action.key] ?? StageRecord(key: action.key)
        record.previous = record.current
        record.current = action.candidate
        record.updatedAt = now
        record.blockedReason = nil
        stages[action.key] = record
        try context.store.saveStage(record)
        try context.store.finishPromotion(promotion.id, status: .succeeded, reason: nil, at: now)
        try context.audit.append(event("promotion.succeeded", ["previous": action.previous.map(JSONValue.string) ?? .null]))
        return .succeeded
    }

    func fail(_ reason: String, rollback: Bool) throws -> PromotionStatus {
        if context.cancellation.isCancelled {
            // The agent is stopping: no new step (rollback included) starts; the next start retries once.
            try context.audit.append(event("promotion.interrupted", ["reason": .string(reason)]))
            try context.store.finishPromotion(
                promotion.id, status: .interrupted, reason: "agent stopped: \(reason)", at: context.clock())
            return .interrupted
        }
        try context.audit.append(event("promotion.failed", ["reason": .string(reason)]))
        guard rollback else {
            try context.store.finishPromotion(promotion.id, status: .failed, reason: reason, at: context.clock())
            return .failed
        }
        return try self.rollback(reason: reason, finalStatus: nil)
    }

    /// Runs the rollback steps with `PA_PREVIOUS`; the stage stays on its previous candidate.
    func rollback(reason: String, finalStatus: PromotionStatus?) throws -> PromotionStatus {
        let steps = action.stage.rollback ?? []
        guard !steps.isEmpty else {
            let status = finalStatus ?? .failed
            try context.store.finishPromotion(
                promotion.id, status: status, reason: "\(reason); no rollback steps", at: context.clock())
            return status
        }
        try context.audit.append(event("rollback.started", ["reason": .string(reason), "steps": .int(Int64(steps.count))]))
        let failure = try runSteps(steps, phase: "rollback")
        try context.audit.append(
            event(
                "rollback.finished",
                ["result": .string(failure == nil ? "succeeded" : "failed"), "reason": failure.map(JSONValue.string) ?? .null]))
        let status = finalStatus ?? (failure == nil ? .rolledBack : .failed)
        let full = failure.map { "\(reason); rollback failed: \($0)" } ?? reason
        try context.store.finishPromotion(promotion.id, status: status, reason: full, at: context.clock())
        return status
    }
}
