import Foundation

/// Decodes the stored plan's rows (one JSON document a pipeline), reusing the value of a row whose text is
/// the one it decoded last time: the status API and the web page read the plan on every request, and at
/// 1,000 pipelines decoding all of it took 40 ms while a pass changes a few rows.
final class PlanRowDecoder: @unchecked Sendable {
    private let lock = NSLock()
    private var decoded: [String: PipelinePlan] = [:]

    func plan(_ rows: [String]) -> Plan? {
        guard !rows.isEmpty else { return nil }
        return lock.withLock {
            let decoder = JSONDecoder()
            var next: [String: PipelinePlan] = [:]
            next.reserveCapacity(rows.count)
            let pipelines = rows.compactMap { row -> PipelinePlan? in
                guard let pipeline = decoded[row] ?? (try? decoder.decode(PipelinePlan.self, from: Data(row.utf8))) else {
                    return nil
                }
                next[row] = pipeline
                return pipeline
            }
            decoded = next
            return Plan(pipelines: pipelines)
        }
    }
}
