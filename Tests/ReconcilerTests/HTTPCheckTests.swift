import Foundation
import Reconciler
import SpecModel
import TestSupport
import Testing

@Suite("HTTP checks through libcurl")
struct HTTPCheckTests {
    func check(_ fields: String) throws -> Check {
        try decodeCheck("name: web, \(fields)")
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
