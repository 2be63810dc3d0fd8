import Foundation
import GitSource
import TestSupport
import Testing

@Suite("Mirrors over local paths, file:// and git://")
struct MirrorTests {
    /// Clones, polls without change, then sees a new commit, through one transport.
    private func exerciseMirror(url: String, fixture: GitFixture, bare: String) throws {
        let mirror = try GitMirror.prepare(url: url, at: fixture.scratch.sub("mirror-\(UUID().uuidString.prefix(6))"))
        let first = try mirror.fetch()
        let tip = try fixture.git("rev-parse", "HEAD")
        #expect(first.before.isEmpty)
        #expect(first.after["main"]?.hex == tip)

        let idle = try mirror.fetchIfChanged(branch: "main")
        #expect(!idle.changed)

        let newTip = try fixture.commit("more \(UUID())", files: ["more.txt": UUID().uuidString])
        try fixture.git("push", "-q", bare, "main")
        let refs = try mirror.listRemoteRefs()
        #expect(refs.contains { $0.name == "refs/heads/main" && $0.target?.hex == newTip })
        let moved = try mirror.fetchIfChanged(branch: "main")
        #expect(moved.changed)
        #expect(moved.before["main"]?.hex == tip)
        #expect(moved.after["main"]?.hex == newTip)
        #expect(try mirror.open().commit(ObjectID(hex: newTip)!).summary.hasPrefix("more"))
    }

    @Test("a plain path")
    func plainPath() throws {
        let fixture = try GitFixture()
        try fixture.commit("one", files: ["a": "1"])
        let bare = try fixture.bareClone()
        try exerciseMirror(url: bare, fixture: fixture, bare: bare)
    }

    @Test("file://")
    func fileURL() throws {
        let fixture = try GitFixture()
        try fixture.commit("one", files: ["a": "1"])
        let bare = try fixture.bareClone()
        try exerciseMirror(url: "file://\(bare)", fixture: fixture, bare: bare)
    }

    @Test("git:// from a git daemon on loopback")
    func gitDaemon() throws {
        let fixture = try GitFixture()
        try fixture.commit("one", files: ["a": "1"])
        let bare = try fixture.bareClone()
        let daemon = try GitDaemon(serving: fixture.scratch.path)
        try exerciseMirror(url: daemon.url("team.git"), fixture: fixture, bare: bare)
    }

    @Test("a force-push and a deleted branch are visible after a fetch")
    func rewrittenHistory() throws {
        let fixture = try GitFixture()
        let base = try fixture.commit("one", files: ["a": "1"])
        let dropped = try fixture.commit("two", files: ["a": "2"])
        try fixture.git("branch", "extra")
        let bare = try fixture.bareClone()
        let mirror = try GitMirror.prepare(url: bare, at: fixture.scratch.sub("mirror"))
        try mirror.fetch()

        try fixture.git("reset", "-q", "--hard", base)
        let replacement = try fixture.commit("two again", files: ["a": "3"])
        try fixture.git("push", "-q", "--force", bare, "main")
        try sh("git", "-C", bare, "branch", "-D", "extra")
        let result = try mirror.fetch()

        #expect(result.after["main"]?.hex == replacement)
        #expect(result.after["extra"] == nil)
        let repository = try mirror.open()
        #expect(try !repository.isAncestor(ObjectID(hex: dropped)!, of: ObjectID(hex: replacement)!))
        let unknown = #expect(throws: GitError.self) { try mirror.fetchIfChanged(branch: "extra") }
        #expect(unknown?.kind == .unknownBranch)
    }

    @Test("prepare twice reuses the mirror and follows a changed URL")
    func prepareIsIdempotent() throws {
        let fixture = try GitFixture()
        try fixture.commit("one", files: ["a": "1"])
        let first = try fixture.bareClone(named: "first.git")
        let second = try fixture.bareClone(named: "second.git")
        let path = fixture.scratch.sub("mirror")
        try GitMirror.prepare(url: first, at: path).fetch()
        let moved = try GitMirror.prepare(url: second, at: path)
        let remoteURL = try sh("git", "-C", path, "config", "remote.origin.url")
        #expect(remoteURL == second)
        #expect(try !moved.fetch().changed)
    }
}

@Suite("Unreachable remotes")
struct UnreachableRemoteTests {
    @Test("a refused connection fails fast with a network error")
    func refused() throws {
        let port = try freeLoopbackPort()
        let started = Date()
        let error = #expect(throws: GitError.self) {
            try GitRemote.listRefs(url: "git://127.0.0.1:\(port)/nothing.git", options: RemoteOptions(stallTimeout: .seconds(5)))
        }
        #expect(error?.kind == .network)
        #expect(error?.isTransient == true)
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test("a server that accepts and never answers is abandoned after the stall timeout")
    func stalled() throws {
        let listener = try SilentListener()
        let scratch = try Scratch()
        let mirror = try GitMirror.prepare(
            url: "git://127.0.0.1:\(listener.port)/x.git", at: scratch.sub("mirror"),
            options: RemoteOptions(stallTimeout: .milliseconds(700)))
        let started = Date()
        let error = #expect(throws: GitError.self) { try mirror.fetch() }
        let elapsed = Date().timeIntervalSince(started)
        #expect(error?.kind == .timeout)
        #expect(error?.description.contains("stalled") == true)
        #expect(elapsed >= 0.6 && elapsed < 5)
    }

    @Test("a path that is no repository says so")
    func notARepository() throws {
        let scratch = try Scratch()
        let error = #expect(throws: GitError.self) { try GitRemote.listRefs(url: scratch.path) }
        #expect(error?.kind == .notARepository || error?.kind == .notFound)
        #expect(error?.message.isEmpty == false)
    }
}
