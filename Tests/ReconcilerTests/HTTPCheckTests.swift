import Foundation
import Reconciler
import SpecModel
import TestSupport
import Testing

@Suite("HTTP checks through libcurl")
struct HTTPCheckTests {
    func check(_ fields: String) throws -> Check {
        let yaml = """
            apiVersion: pipeline-agent/v1
            kind: Pipeline
            metadata: {name: p}
            spec:
              source: {branch: main}
              stages: [{name: dev, steps: [{name: s, run: "true"}], verify: [{name: web, \(fields)}]}]
            """
        let catalog = SpecCatalog(files: [("p.yaml", Data(yaml.utf8))])
        return try #require(catalog.pipelines.first?.pipeline.spec.stages[0].verify?.first, "\(catalog.diagnostics)")
    }

    @Test("status against expectStatus, and an unreachable endpoint")
    func statuses() throws {
        let scratch = try Scratch()
        let server = try RecordingReceiver(logIn: scratch.path)
        // The receiver answers GET with 501 (it only implements POST).
        let wrong = Verification.run(
            try check("http: \"\(server.url("/health"))\""), checkout: scratch.path, notBefore: .distantPast)
        #expect(wrong.level == .failed && wrong.message == "status 501, expected 200")
        let expected = Verification.run(
            try check("http: \"\(server.url("/health"))\", expectStatus: 501"), checkout: scratch.path, notBefore: .distantPast)
        #expect(expected.level == .passed)
        let port = try freeLoopbackPort()
        let down = Verification.run(
            try check("http: \"http://127.0.0.1:\(port)/\""), checkout: scratch.path, notBefore: .distantPast)
        #expect(down.level == .failed && down.message.contains("curl error 7"))
    }
}
