import Foundation
import SpecModel
import Testing

/// The fixtures directory, copied into the test bundle.
let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
/// The repository root, for the real pipelines and examples.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func diagnostics(forFixture name: String) throws -> [Diagnostic] {
    let bytes = try Data(contentsOf: fixtures.appendingPathComponent("invalid/\(name)"))
    return SpecCatalog(files: [("\(name)", bytes)], isRead: { _ in true }).diagnostics.sortedForDisplay()
}

func invalidFixtureNames() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: fixtures.appendingPathComponent("invalid").path)
        .filter { $0.hasSuffix(".yaml") }.sorted()
}

@Suite("Diagnostics of broken specs")
struct GoldenDiagnosticsTests {
    @Test("every broken fixture yields located errors equal to its golden file", arguments: try invalidFixtureNames())
    func golden(name: String) throws {
        let found = try diagnostics(forFixture: name)
        #expect(found.hasErrors, "\(name) should be invalid")
        #expect(found.allSatisfy { $0.location.line >= 1 && $0.location.column >= 1 })
        let text = found.map(\.description).joined(separator: "\n") + "\n"
        let goldenURL = repositoryRoot.appendingPathComponent(
            "Tests/SpecModelTests/Fixtures/invalid/\(name.replacingOccurrences(of: ".yaml", with: ".expected"))")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try Data(text.utf8).write(to: goldenURL)
        }
        let expected = try String(contentsOf: goldenURL, encoding: .utf8)
        #expect(text == expected)
    }

    @Test("the messages users rely on")
    func keyMessages() throws {
        let unknown = try diagnostics(forFixture: "unknown-key.yaml").map(\.description)
        #expect(unknown.contains("unknown-key.yaml:10:7: error: spec.stages[0]: unknown key 'step'; did you mean 'steps'?"))
        let from = try diagnostics(forFixture: "unknown-from.yaml").map(\.message)
        #expect(from.contains("stage 'prod' comes from unknown stage 'stagin'; did you mean 'staging'?"))
        let cycle = try diagnostics(forFixture: "cycle.yaml").map(\.message)
        #expect(cycle.contains { $0.hasPrefix("stages form a cycle: a ← c ← b ← a") })
        let windows = try diagnostics(forFixture: "bad-windows.yaml").map(\.message)
        #expect(windows.contains { $0.contains("unknown time zone 'Mars/Olympus'") })
        #expect(windows.contains { $0.contains("base-60 number, so quote it: \"16:00\"") })
        // The fix offered must itself pass: an unquoted 9:00 becomes "09:00", not "9:00" (which is not HH:MM).
        /// A one-stage spec whose window opens at `from`, written as given.
        func window(from: String) -> SpecCatalog {
            let spec = """
                apiVersion: pipeline-agent/v1
                kind: Pipeline
                metadata: {name: p}
                spec:
                  source: {branch: main}
                  stages:
                    - {name: dev, steps: [{name: s, run: "true"}], windows: [{days: [mon], from: \(from), to: "17:00", timezone: UTC}]}

                """
            return SpecCatalog(files: [("pipelines/p.yaml", Data(spec.utf8))])
        }
        let early = window(from: "9:00").diagnostics.map(\.message)
        #expect(early.contains { $0.contains("so quote it: \"09:00\"") }, "\(early)")
        let fixed = window(from: "\"09:00\"")
        #expect(fixed.diagnostics.isEmpty, "the suggested fix is accepted: \(fixed.diagnostics)")
        let counts = try diagnostics(forFixture: "approvals.yaml").map(\.message)
        #expect(counts.contains { $0.contains("requires 3 approvals but lists only") || $0.contains("approvers[2]") })
        let bytes = try diagnostics(forFixture: "not-utf8.yaml")
        #expect(bytes.first?.location == SourceLocation(line: 4, column: 12))
    }

    @Test("a file over the size limit is refused without parsing")
    func oversized() {
        let big = Data(repeating: UInt8(ascii: "#"), count: SpecFile.maxBytes + 1)
        let file = SpecFile(path: "big.yaml", bytes: big)
        #expect(
            file.diagnostics.map(\.message) == [
                "file is \(SpecFile.maxBytes + 1) bytes, over the \(SpecFile.maxBytes)-byte limit for spec files"
            ])
    }

    @Test("aliases that would expand into a huge tree are reported without walking it")
    func billionLaughs() {
        var text = "apiVersion: pipeline-agent/v1\nkind: Pipeline\nmetadata: {name: x}\nspec:\n  source: {branch: main}\n"
        text += "  l0: &l0 [a, a, a, a, a, a, a, a, a, a]\n"
        for level in 1...6 {
            text += "  l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        text += "  stages: [{name: dev, steps: *l6}]\n"
        let file = SpecFile(path: "laughs.yaml", bytes: Data(text.utf8))
        #expect(file.diagnostics.hasErrors)
        #expect(file.diagnostics.count < 50)
    }
}

@Suite("Valid specs")
struct ValidSpecTests {
    @Test("the reference pipelines and examples validate cleanly")
    func repositorySpecs() throws {
        for directory in ["pipelines", "examples/minimal"] {
            let catalog = try SpecDirectory.catalog(under: repositoryRoot.appendingPathComponent(directory), display: directory)
            #expect(catalog.isValid, "\(catalog.diagnostics)")
            #expect(catalog.specFileCount > 0)
        }
    }

    @Test("multi-document files, anchors and every optional field decode")
    func multiDocument() throws {
        let bytes = try Data(contentsOf: fixtures.appendingPathComponent("valid/multi-document.yaml"))
        let catalog = SpecCatalog(files: [("pipelines/multi-document.yaml", bytes)])
        #expect(catalog.diagnostics.isEmpty, "\(catalog.diagnostics)")
        #expect(catalog.pipelines.map(\.pipeline.name) == ["first", "second"])
        let prod = try #require(catalog.pipelines[0].pipeline.stage(named: "prod"))
        #expect(prod.steps.first?.timeout?.milliseconds == 5_400_000)
        #expect(prod.windows?.first?.timeZoneIdentifier == "UTC")
        #expect(prod.windows?.first?.from.minutes == 22 * 60)
        #expect(prod.soak?.seconds == 7200)
        #expect(prod.promotionMode == .manual)
        let approval = try #require(catalog.approvals.first?.approval)
        #expect(approval.expires == ISO8601DateFormatter().date(from: "2026-12-01T00:00:00Z"))
        #expect(catalog.pipelines[1].pipeline.spec.source.pathGlobs.map(\.pattern) == ["services/api", "docs/*.md"])
    }

    @Test("YAML files that are not specs are left alone outside pipelines/")
    func foreignYAML() {
        let dbtProject = Data("name: olist\nversion: '1.0'\nprofile: olist\n".utf8)
        let outside = SpecCatalog(files: [("examples/olist/dbt_project.yml", dbtProject)])
        #expect(outside.specFileCount == 0)
        let inside = SpecCatalog(files: [("pipelines/dbt_project.yml", dbtProject)])
        #expect(inside.diagnostics.first?.message == "document 1 has no 'kind'; expected Pipeline or Approval")
    }

    @Test("which paths the agent reads as specs")
    func readPaths() {
        let read = ["pipelines/a.yaml", "pipelines/team/b.yml", "approvals/x.yaml", "pipelines/é.yaml"]
        let ignored = [
            "a.yaml", "pipelines.yaml", "pipeline/a.yaml", "pipelines/a.yaml.bak", "pipelines/a.json", "docs/pipelines/a.yaml",
            "approvalsx/a.yaml", "pipelines/", "", "/pipelines/a.yaml",
        ]
        for path in read { #expect(SpecLocation.isRead(path), "\(path)") }
        for path in ignored { #expect(!SpecLocation.isRead(path), "\(path)") }
    }
}
