import Foundation
import GitSource
import SpecModel

/// Finishes the promotions a dead agent left `running`, from what its audit log proves happened:
/// the log is written before the store, so it is the truth about how far a promotion got.
struct PromotionRecovery {
    let executor: PromotionExecutor
    var context: ExecutionContext { executor.context }

    /// What the log says about one promotion.
    enum Progress: Equatable {
        /// Never announced: no step ran.
        case unannounced
        /// Steps or checks may have run; no rollback began.
        case started
        /// A rollback began and did not finish; the promotion then becomes `outcome`.
        case rollingBack(reason: String, outcome: PromotionStatus)
        /// The rollback finished, its terminal record was not written yet.
        case rolledBack(PromotionStatus, reason: String)
        /// Its terminal record is in the log; only the store lags behind.
        case ended(PromotionStatus, reason: String?)
    }

    /// Closes every running promotion (or those of `only`: a dead agent's, taken over): exactly one terminal record
    /// each, and a failed candidate stays failed.
    func recover(specs: [String: Pipeline], repository: GitRepository, only: Set<Int64>? = nil) throws {
        let running = try context.store.promotions().filter { $0.status == .running && only?.contains($0.id) ?? true }
        guard !running.isEmpty else { return }
        let records = try context.recorder.auditRecords()
        for promotion in running {
            let progress = Self.progress(of: promotion.id, in: records)
            // Another agent's checkout is on its host (or in its work area): this agent checks out afresh.
            let named = Self.checkout(of: promotion.id, in: records).flatMap {
                $0.hasPrefix(context.checkouts.root + "/") ? $0 : nil
            }
            let checkout = named ?? context.checkouts.newPath()
            try recover(promotion, progress: progress, checkout: checkout, specs: specs, repository: repository)
        }
    }

    private func recover(
        _ promotion: PromotionRecord, progress: Progress, checkout: String, specs: [String: Pipeline],
        repository: GitRepository
    ) throws {
        if case .ended(let status, let reason) = progress {
            // The record is already in the log: only the state lags behind.
            try context.recorder.save(.outcome(PromotionOutcome(promotion, status: status, reason: reason, at: context.clock())))
            return
        }
        let stage = specs[promotion.key.pipeline]?.stage(named: promotion.key.stage)
        let pipeline = specs[promotion.key.pipeline]
        guard let pipeline, let stage else {
            try closeWithoutRollback(promotion, reason: "the agent stopped during the promotion; the stage is gone")
            return
        }
        let action = PromotionAction(
            key: promotion.key, candidate: promotion.candidate, previous: promotion.previous, pipeline: pipeline, stage: stage)
        let run = PromotionRun(
            context: context, action: action, promotion: promotion, checkoutPath: checkout, resuming: true)
        defer { context.checkouts.remove(checkout) }
        ProcessRunner.killLeftover(groupFile: run.groupFile)
        if let user = run.user { Leftovers.killEveryProcess(of: user) }
        switch progress {
        case .unannounced:
            _ = try run.finish(.interrupted, reason: "the agent stopped before the promotion was announced; nothing ran")
        case .rolledBack(let status, let reason):
            _ = try run.finish(status, reason: reason)
        case .rollingBack(let reason, let outcome):
            _ = try? run.checkout(repository)
            _ = try run.rollback(reason: "\(reason) (rollback resumed after a restart)", after: outcome)
        case .started, .ended:
            _ = try? run.checkout(repository)
            _ = try run.rollback(reason: "the agent stopped during the promotion", after: .interrupted)
        }
    }

    private func closeWithoutRollback(_ promotion: PromotionRecord, reason: String) throws {
        try context.recorder.record(
            AuditEvent(
                PromotionOutcome.terminalType(.interrupted), pipeline: promotion.key.pipeline, stage: promotion.key.stage,
                candidate: promotion.candidate,
                detail: [
                    "promotionId": .int(promotion.id), "status": .string(PromotionStatus.interrupted.rawValue),
                    "reason": .string(reason),
                ]),
            then: .outcome(PromotionOutcome(promotion, status: .interrupted, reason: reason, at: context.clock())))
    }

    /// How far promotion `id` got, by its records in the log.
    static func progress(of id: Int64, in records: [AuditRecord]) -> Progress {
        var progress = Progress.unannounced
        for record in records where record.detail["promotionId"] == .int(id) {
            if PromotionOutcome.terminalTypes.contains(record.type) {
                return .ended(terminalStatus(record), reason: record.detail["reason"]?.stringValue)
            }
            switch record.type {
            case "promotion.started":
                progress = .started
            case "rollback.started":
                let outcome = record.detail["outcome"]?.stringValue.flatMap(PromotionStatus.init) ?? .failed
                progress = .rollingBack(reason: record.detail["reason"]?.stringValue ?? "rollback", outcome: outcome)
            case "rollback.finished":
                guard case .rollingBack(let reason, let outcome) = progress else { break }
                let end = PromotionOutcome.afterRollback(
                    outcome, reason: reason, rollbackFailure: record.detail["reason"]?.stringValue)
                progress = .rolledBack(end.status, reason: end.reason)
            default:
                if progress == .unannounced { progress = .started }
            }
        }
        return progress
    }

    /// The checkout `promotion.started` named (a path in the checkout area, never guessed).
    static func checkout(of id: Int64, in records: [AuditRecord]) -> String? {
        records.first { $0.type == "promotion.started" && $0.detail["promotionId"] == .int(id) }?.detail["checkout"]?.stringValue
    }

    static func terminalStatus(_ record: AuditRecord) -> PromotionStatus {
        if let status = record.detail["status"]?.stringValue.flatMap(PromotionStatus.init) { return status }
        switch record.type {
        case "promotion.succeeded": return .succeeded
        case "promotion.interrupted": return .interrupted
        default: return .failed
        }
    }
}

extension PromotionExecutor {
    /// Finishes the promotions a dead agent left running (see `PromotionRecovery`).
    public func recoverInterrupted(specs: [String: Pipeline], repository: GitRepository, only: Set<Int64>? = nil) throws {
        try PromotionRecovery(executor: self).recover(specs: specs, repository: repository, only: only)
    }
}
