import Foundation
import Logging
import Reconciler

/// Audit appends per second on the PostgreSQL store (`url`, an empty database): one record per transaction, as an
/// agent alone and as one of several (every transaction fenced by its lease), and from four agents at once.
func postgresFigures(url: String, records: Int) throws {
    let store = try PostgresStateStore(url: url)
    try measure("PostgreSQL append, one record per transaction", records: records) {
        for index in 0..<records { try store.append([event(index)], at: Date()) }
    }
    let logger = Logger(label: "audit-bench")
    store.join(try AgentLease(url: url, leaseSeconds: 60, logger: logger))
    try measure("… fenced by an agent's lease", records: records) {
        for index in 0..<records { try store.append([event(index)], at: Date()) }
    }
    let writers = try (0..<4).map { _ in
        let writer = try PostgresStateStore(url: url)
        writer.join(try AgentLease(url: url, leaseSeconds: 60, logger: logger))
        return writer
    }
    measure("… four agents appending at once (one chain)", records: records) {
        DispatchQueue.concurrentPerform(iterations: writers.count) { index in
            for record in 0..<(records / writers.count) { _ = try? writers[index].append([event(record)], at: Date()) }
        }
    }
    print("chain intact after all of it: \(try store.verifyChain().isIntact)")
}
