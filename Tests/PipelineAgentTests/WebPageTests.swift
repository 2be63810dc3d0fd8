import Foundation
import TestSupport
import Testing

/// The web page as an attacker with merge rights and a reader without the token would try it: hostile
/// commit subjects, author names and step output must show as text and run nothing; every read needs
/// the token when one is configured.
@Suite("The web page")
struct WebPageTests {
    static let payload = #"<script>console.log("pwned-script")</script> "><img src=x onerror=console.log("pwned-img")>"#
    static let terminal = "\u{1B}]0;owned-title\u{07}\u{1B}[31mred\u{1B}[0m \u{202E}gnp.exe"
    static let deployScript = """
        printf '%s\\n' '<script>console.log("pwned-log")</script> "><img src=x onerror=console.log("pwned-log-img")>'
        printf '\\033]0;owned-title\\007\\033[31mRED\\033[0m\\n'
        printf 'read token: %s\\n' "${PA_READ_TOKEN:-absent}"
        mkdir -p "$PA_ROOT/dev" && cp app/version.txt "$PA_ROOT/dev/version.txt"

        """

    /// A pipeline whose dev step prints hostile output, and a commit with a hostile author and subject made
    /// the way an attacker would (git itself strips `<>` from names; `hash-object --literally` does not).
    func hostileFixture(extraConfig: String) throws -> (AgentFixture, String) {
        let stages = "    - name: dev\n      steps:\n        - {name: deploy, run: 'sh app/deploy.sh'}"
        let fixture = try AgentFixture(stages: stages, extraConfig: extraConfig)
        let git = fixture.git
        try git.scratch.write("work/app/deploy.sh", Self.deployScript)
        try git.scratch.write("work/app/version.txt", "v2\n")
        try git.git("add", "-A")
        let tree = try git.git("write-tree")
        let parent = try git.git("rev-parse", "HEAD")
        let stamp = Int(Date().timeIntervalSince1970)
        let author = #"Mallory "><img src=x onerror=console.log("pwned-author")>"#
        let object = """
            tree \(tree)
            parent \(parent)
            author \(author) <mallory@acme.test> \(stamp) +0000
            committer Dev One <dev@acme.test> \(stamp) +0000

            Fix \(Self.payload) \(Self.terminal)

            """
        let made = try runProcess(
            ["git", "hash-object", "-t", "commit", "-w", "--literally", "--stdin"], in: git.path, input: Data(object.utf8))
        let id = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try git.git("update-ref", "refs/heads/main", id)
        try git.git("push", "-q", fixture.remote, "main")
        return (fixture, id)
    }

    @Test("hostile subjects, author names and step output show as text; the browser runs nothing")
    func escaping() throws {
        let port = try freeLoopbackPort()
        let (fixture, candidate) = try hostileFixture(extraConfig: "http: {listen: \"127.0.0.1:\(port)\"}\n")
        let run = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root])
        #expect(run.status == 0, "\(run.stderr)")
        let agent = try RunningAgent(fixture, port: port, environment: ["PA_ROOT": fixture.root])
        defer { _ = agent.terminate() }
        let base = "http://127.0.0.1:\(port)"
        for path in ["/", "/pipelines/shop/stages/dev", "/promotions/1", "/audit", "/audit?candidate=\(candidate.prefix(8))"] {
            let (code, body) = try agent.curl(base + path)
            #expect(code == "200", "\(path): \(body.prefix(500))")
            #expect(!body.lowercased().contains("<script"), "\(path) holds a script element")
            #expect(!body.lowercased().contains("<img"), "\(path) holds an img element")
            #expect(!body.contains("\u{1B}") && !body.contains("\u{202E}"), "\(path) passes control characters through")
        }
        let promotion = try agent.curl(base + "/promotions/1").body
        #expect(promotion.contains("&lt;script&gt;console.log(&quot;pwned-log&quot;)&lt;/script&gt;"), "step output as text")
        #expect(promotion.contains(#"\u{1B}[31mRED"#), "terminal escapes written out")
        #expect(promotion.contains("&lt;script&gt;console.log(&quot;pwned-script&quot;)"), "the subject as text")
        #expect(
            promotion.contains("Mallory &quot;&gt;&lt;img src=x onerror=console.log(&quot;pwned-author&quot;)"),
            "the author as text")
        #expect(try agent.curl(base + "/").body.contains(#"\u{202E}gnp.exe"#), "a direction override is shown, not obeyed")

        for path in ["/", "/promotions/1", "/pipelines/shop/stages/dev", "/audit"] {
            let (dom, console) = try HeadlessBrowser.load(base + path)
            #expect(console.isEmpty, "\(path): the console says something ran or was blocked: \(console)")
            #expect(!dom.lowercased().contains("<script") && !dom.lowercased().contains("<img"), "\(path): \(dom.prefix(300))")
            #expect(dom.contains("pwned"), "\(path) shows the hostile text (as text)")
            #expect(!dom.contains("<title>owned") && dom.contains("· pipeline-agent</title>"))
        }
        try HeadlessBrowser.screenshot(base + "/promotions/1", name: "escaping-promotion", height: 1400)
    }

    @Test("the templates never turn escaping off")
    func templatesEscape() throws {
        let directory = "\(repositoryRoot)/Sources/PipelineAgent/Web"
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("PageTemplates") }
        #expect(files.count >= 2)
        for file in files {
            let text = try String(contentsOfFile: "\(directory)/\(file)", encoding: .utf8)
            #expect(!text.contains("{{{") && !text.contains("{{&"), "\(file) renders something unescaped")
            #expect(!text.lowercased().contains("<script"), "\(file) has a script: the CSP would refuse it anyway")
        }
    }
}
