import Foundation
import GitSource
import TestSupport
import Testing

@Suite("Credentials over smart HTTP")
struct CredentialTests {
    @Test("a token from an environment variable authenticates; a missing or wrong one fails clearly")
    func tokenFromEnvironment() throws {
        let fixture = try GitFixture()
        let tip = try fixture.commit("one", files: ["a": "1"])
        _ = try fixture.bareClone()
        let token = "tok-\(UUID().uuidString)"
        let server = try GitHTTPServer(serving: fixture.scratch.path, token: token)
        let url = server.url("team.git")
        setenv("PA_TEST_GIT_TOKEN", token, 1)
        setenv("PA_TEST_WRONG_TOKEN", "wrong", 1)
        defer {
            unsetenv("PA_TEST_GIT_TOKEN")
            unsetenv("PA_TEST_WRONG_TOKEN")
        }

        let withToken = RemoteOptions(credentials: .token(environmentVariable: "PA_TEST_GIT_TOKEN", username: nil))
        let refs = try GitRemote.listRefs(url: url, options: withToken)
        #expect(refs.contains { $0.name == "refs/heads/main" && $0.target?.hex == tip })
        let mirror = try GitMirror.prepare(url: url, at: fixture.scratch.sub("mirror"), options: withToken)
        #expect(try mirror.fetch().after["main"]?.hex == tip)

        let anonymous = #expect(throws: GitError.self) { try GitRemote.listRefs(url: url) }
        #expect(anonymous?.kind == .authentication)
        #expect(anonymous?.message.contains("no credentials are configured") == true)

        let unset = RemoteOptions(credentials: .token(environmentVariable: "PA_TEST_UNSET_TOKEN", username: nil))
        let missing = #expect(throws: GitError.self) { try GitRemote.listRefs(url: url, options: unset) }
        #expect(missing?.kind == .authentication)
        #expect(missing?.message.contains("PA_TEST_UNSET_TOKEN is unset") == true)

        let wrong = RemoteOptions(credentials: .token(environmentVariable: "PA_TEST_WRONG_TOKEN", username: nil))
        let refused = #expect(throws: GitError.self) { try GitRemote.listRefs(url: url, options: wrong) }
        #expect(refused?.kind == .authentication)
        #expect(refused?.description.contains("wrong") == false)
    }
}
