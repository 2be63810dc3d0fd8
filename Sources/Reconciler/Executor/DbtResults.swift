import Foundation
import SpecModel

/// Reads a dbt `run_results.json` and applies a check's thresholds to the failing-row count.
enum DbtResults {
    private struct File: Decodable {
        struct Result: Decodable {
            let unique_id: String
            let status: String
            let failures: Int?
            let message: String?
        }
        let results: [Result]
    }

    /// Any failing test fails the check unless thresholds say otherwise.
    static let defaultErrorIf = Threshold(">0")

    static func evaluate(_ check: Check, path: String, notBefore: Date) -> CheckResult {
        func failed(_ message: String) -> CheckResult {
            CheckResult(name: check.name, level: .failed, measured: nil, message: message)
        }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let modified = attributes[.modificationDate] as? Date
        else { return failed("\(path) is missing: dbt did not write results") }
        guard modified >= notBefore else {
            return failed("\(path) is stale: written \(AuditTime.format(modified)), before this promotion's steps ran")
        }
        guard let data = FileManager.default.contents(atPath: path), let file = try? JSONDecoder().decode(File.self, from: data)
        else { return failed("\(path) is not a dbt run_results.json") }
        let broken = file.results.filter { !$0.unique_id.hasPrefix("test.") && $0.status == "error" }
        if let first = broken.first {
            return failed("\(broken.count) node(s) failed to build, first \(first.unique_id)")
        }
        let tests = file.results.filter { $0.unique_id.hasPrefix("test.") }
        let erroredTests = tests.filter { $0.status == "error" }
        if let first = erroredTests.first {
            return failed("\(erroredTests.count) test(s) could not run, first \(first.unique_id)")
        }
        let failingRows = tests.filter { $0.status == "fail" || $0.status == "warn" }.reduce(0) { $0 + ($1.failures ?? 0) }
        let failingTests = tests.filter { ($0.failures ?? 0) > 0 }.count
        let judged = Thresholds.judge(check, value: Double(failingRows), unit: " failing rows", defaultError: defaultErrorIf)
        return CheckResult(
            name: judged.name, level: judged.level, measured: judged.measured,
            message: "\(judged.message) (\(failingTests) of \(tests.count) tests failing)")
    }
}
