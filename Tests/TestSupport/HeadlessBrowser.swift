import Foundation

/// Debian's chromium, headless, driving the agent's page as a person's browser would: the DOM after
/// load, what the page wrote to the console (script output, CSP violations), and screenshots.
public enum HeadlessBrowser {
    public static let path = "/usr/bin/chromium"

    /// Where screenshots are kept after the tests (`.build/test-output/web`).
    public static var screenshotDirectory: String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/test-output/web").path
    }

    /// The page as loaded: its serialized DOM, and every console line (a script that ran, a blocked one).
    public static func load(_ url: String) throws -> (dom: String, console: [String]) {
        let (arguments, profile) = command(["--enable-logging=stderr", "--v=0", "--dump-dom", url])
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let result = try runProcess(arguments)
        guard result.status == 0 else { throw CommandFailed(command: [path, url], result: result) }
        let console = result.stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
        return (result.stdout, console)
    }

    /// A PNG of the page `width` pixels wide and `height` tall, kept as `name`.png; returns its path.
    @discardableResult
    public static func screenshot(_ url: String, name: String, width: Int = 1280, height: Int = 1000) throws -> String {
        try FileManager.default.createDirectory(atPath: screenshotDirectory, withIntermediateDirectories: true)
        let file = "\(screenshotDirectory)/\(name).png"
        let (arguments, profile) = command(
            ["--hide-scrollbars", "--window-size=\(width),\(height)", "--screenshot=\(file)", url])
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let result = try runProcess(arguments)
        guard result.status == 0, FileManager.default.fileExists(atPath: file) else {
            throw CommandFailed(command: [path, "--screenshot", url], result: result)
        }
        print("screenshot: \(file)")
        return file
    }

    /// Headless, without a sandbox (the tests run as root, where chromium refuses its sandbox), and with a
    /// profile of its own each time so that nothing carries over between loads.
    private static func command(_ extra: [String]) -> (arguments: [String], profile: String) {
        let profile = NSTemporaryDirectory() + "pa-chromium-\(UUID().uuidString)"
        let arguments = [
            "timeout", "90", path, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--user-data-dir=\(profile)",
        ]
        return (arguments + extra, profile)
    }
}
