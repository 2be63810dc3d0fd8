import Foundation
import Reconciler
import SpecModel
import TestSupport
import Testing

@Suite("Verification on dbt run_results.json")
struct DbtResultsTests {
    static func results(failures: [Int], modelError: Bool = false) -> String {
        var results = failures.enumerated().map { index, count in
            #"{"unique_id": "test.olist.t\#(index)", "status": "\#(count > 0 ? "fail" : "pass")", "failures": \#(count), "message": null}"#
        }
        results.append(
            #"{"unique_id": "model.olist.orders", "status": "\#(modelError ? "error" : "success")", "failures": null, "message": null}"#
        )
        return #"{"metadata": {"invocation_id": "x"}, "results": [\#(results.joined(separator: ","))]}"#
    }

    /// Runs a one-check verification through the public check runner entry point.
    func judge(_ json: String?, warnIf: String? = nil, errorIf: String? = nil, age: TimeInterval = 0) throws -> CheckResult {
        let scratch = try Scratch()
        let path = scratch.sub("target/run_results.json")
        if let json {
            try scratch.write("target/run_results.json", json)
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-age)], ofItemAtPath: path)
        }
        var fields = ["name: dbt-tests", "dbtResults: target/run_results.json"]
        if let warnIf { fields.append("warnIf: \"\(warnIf)\"") }
        if let errorIf { fields.append("errorIf: \"\(errorIf)\"") }
        let check = try decodeCheck(fields.joined(separator: ", "))
        return Verification.run(check, checkout: scratch.path, notBefore: Date().addingTimeInterval(-60))
    }

    @Test("failing rows against dbt-style thresholds, as dev, staging and prod set them")
    func thresholds() throws {
        let bad = Self.results(failures: [0, 150, 0])
        #expect(try judge(bad, warnIf: ">100", errorIf: ">1000").level == .warning)
        #expect(try judge(bad, warnIf: ">10", errorIf: ">100").level == .failed)
        #expect(try judge(Self.results(failures: [0, 0]), warnIf: ">1", errorIf: ">10").level == .passed)
        #expect(try judge(Self.results(failures: [1])).level == .failed)
        #expect(try judge(bad, warnIf: ">10", errorIf: ">100").measured == 150)
    }

    @Test("missing, stale or broken results are errors, never a pass")
    func missingOrStale() throws {
        #expect(try judge(nil).message.contains("missing"))
        #expect(try judge(Self.results(failures: [0]), age: 3600).message.contains("stale"))
        #expect(try judge("{not json").level == .failed)
        #expect(try judge(Self.results(failures: [0], modelError: true)).message.contains("failed to build"))
    }
}
