import Foundation

/// How one promotion the pool ran ended.
struct FinishedPromotion: Sendable {
    let key: StageKey
    let candidate: String
    let result: Result<(status: PromotionStatus, id: Int64), any Error>
}

/// Runs promotions side by side, each on its own thread, while the loop keeps fetching, planning and
/// answering: at most `limit` at once, never two of one stage, and never two as one step user (the end
/// of a step kills every process of its user, which would kill the other promotion's steps). Health
/// checks and drift observations ask `isBusy` before running as a user for the same reason.
final class PromotionPool: @unchecked Sendable {
    let limit: Int
    private let condition = NSCondition()
    private var running: [StageKey: String?] = [:]
    private var finished: [FinishedPromotion] = []
    /// Called (on the promotion's thread) when one ends: the service wakes for a pass.
    var onFinish: (@Sendable () -> Void)?

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    var isEmpty: Bool { condition.withLock { running.isEmpty } }
    /// How many promotions have ended since the pool was made (a pass compares it before and after planning).
    var endedCount: Int { condition.withLock { ended } }
    private var ended = 0
    var count: Int { condition.withLock { running.count } }

    func isRunning(_ key: StageKey) -> Bool { condition.withLock { running[key] != nil } }

    /// Whether a promotion or command of `user` runs now (nil: the agent's own user, never exclusive).
    func isBusy(_ user: String?) -> Bool {
        guard let user else { return false }
        return condition.withLock { running.values.contains { $0 == user } }
    }

    /// What `start` did.
    enum Admission {
        case started
        /// No room now (the pool is full, or the stage or the step user is busy): try again later.
        case noRoom
        /// `begin` declined (another agent claimed the stage first): nothing to do.
        case declined
    }

    /// When there is room and neither `key` nor `user` is busy: runs `begin` on the caller's thread (so that
    /// the promotion is recorded before the caller plans again), then `work` on a thread of its own.
    /// `begin`'s error is rethrown with the room given back; so is its nil.
    func start<Begun: Sendable>(
        _ key: StageKey, candidate: String, user: String?, begin: () throws -> Begun?,
        _ work: @escaping @Sendable (Begun) throws -> (status: PromotionStatus, id: Int64)
    ) throws -> Admission {
        let admitted = condition.withLock { () -> Bool in
            guard running.count < limit, running[key] == nil,
                user.map({ busy in !running.values.contains { $0 == busy } }) ?? true
            else {
                return false
            }
            running[key] = .some(user)
            return true
        }
        guard admitted else { return .noRoom }
        let giveBack = {
            self.condition.withLock {
                self.running[key] = nil
                self.condition.broadcast()
            }
        }
        let begun: Begun
        do {
            guard let claimed = try begin() else {
                giveBack()
                return .declined
            }
            begun = claimed
        } catch {
            giveBack()
            throw error
        }
        let thread = Thread { [self] in
            let result = Result { try work(begun) }
            condition.withLock {
                running[key] = nil
                ended += 1
                finished.append(FinishedPromotion(key: key, candidate: candidate, result: result))
                condition.broadcast()
            }
            onFinish?()
        }
        thread.stackSize = 8 << 20
        thread.start()
        return .started
    }

    /// The promotions that ended since the last call, oldest first.
    func takeFinished() -> [FinishedPromotion] {
        condition.withLock {
            defer { finished = [] }
            return finished
        }
    }

    /// Blocks until a promotion ends (or has ended and is not taken yet), or none runs.
    func waitForAny() {
        condition.withLock {
            while finished.isEmpty, !running.isEmpty { condition.wait() }
        }
    }

    /// Blocks until every running promotion has ended.
    func waitForAll() {
        condition.withLock {
            while !running.isEmpty { condition.wait() }
        }
    }
}
