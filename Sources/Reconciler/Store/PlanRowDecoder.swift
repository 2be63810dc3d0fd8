import Foundation

/// Decodes the stored plan's rows (one JSON document a pipeline), reusing the value of a row whose text is
/// the one it decoded last time: the status API and the web page read the plan on every request, and at
/// 1,000 pipelines decoding all of it took 85 ms while a pass changes a few rows. Rows not seen before are
/// decoded on every core.
final class PlanRowDecoder: @unchecked Sendable {
    private let lock = NSLock()
    private var decoded: [String: PipelinePlan] = [:]

    func plan(_ rows: [String]) -> Plan? {
        guard !rows.isEmpty else { return nil }
        let known = lock.withLock { decoded }
        let fresh = Self.decodeInParallel(rows.filter { known[$0] == nil })
        var next: [String: PipelinePlan] = [:]
        next.reserveCapacity(rows.count)
        let pipelines = rows.compactMap { row -> PipelinePlan? in
            guard let pipeline = known[row] ?? fresh[row] else { return nil }
            next[row] = pipeline
            return pipeline
        }
        lock.withLock { decoded = next }
        return Plan(pipelines: pipelines)
    }

    /// Rows that do not decode are left out, as before (a row written by a newer agent, say).
    private static func decodeInParallel(_ rows: [String]) -> [String: PipelinePlan] {
        guard !rows.isEmpty else { return [:] }
        let chunk = 64
        let results = LockedResults()
        DispatchQueue.concurrentPerform(iterations: (rows.count + chunk - 1) / chunk) { index in
            let decoder = JSONDecoder()
            var part: [String: PipelinePlan] = [:]
            for row in rows[(index * chunk)..<min(rows.count, (index + 1) * chunk)] {
                if let pipeline = try? decoder.decode(PipelinePlan.self, from: Data(row.utf8)) { part[row] = pipeline }
            }
            results.add(part)
        }
        return results.all
    }
}

/// Decoded rows gathered from the decoding threads.
private final class LockedResults: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: PipelinePlan] = [:]

    func add(_ part: [String: PipelinePlan]) {
        lock.withLock { values.merge(part) { first, _ in first } }
    }

    var all: [String: PipelinePlan] { lock.withLock { values } }
}
