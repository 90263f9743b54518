import Foundation
import Journal
import JournalTesting

#if canImport(Glibc)
import Glibc
#endif

/// A real headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
/// the browser reads commands on fd 3 and writes answers and events on fd 4, each message ended by
/// a NUL byte). One page; every call blocks its own queue, never the test's task.
final class HeadlessBrowser: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible { var description: String }

    private let process: pid_t
    private let toBrowser: Int32, fromBrowser: Int32
    private let profile: URL
    private let queue = DispatchQueue(label: "tpj.headless-browser")
    private var nextId = 1
    private var pending: [UInt8] = []
    private var events: [JSONValue] = []
    private var session = ""

    /// The Chromium executable: `$CHROMIUM`, or the first of Debian's names found on the PATH.
    static func executable() -> String? {
        if let path = ProcessInfo.processInfo.environment["CHROMIUM"] { return path }
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for directory in directories where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") { return "\(directory)/\(name)" }
        }
        return nil
    }

    /// Starts the browser with a fresh profile and opens one page.
    static func launch(width: Int = 1280, height: Int = 900) async throws -> HeadlessBrowser {
        guard let executable = executable() else {
            throw Failure(description: "no Chromium found: install Debian's `chromium` package (.ci/run does) or set CHROMIUM")
        }
        let browser = try HeadlessBrowser(executable: executable, width: width, height: height)
        try await browser.run {
            let target = try $0.call("Target.createTarget", ["url": "about:blank"])
            let attached = try $0.call("Target.attachToTarget", ["targetId": target["targetId"] ?? .null, "flatten": true])
            $0.session = attached["sessionId"]?.stringValue ?? ""
            for domain in ["Page", "Runtime", "Network"] { _ = try $0.call("\(domain).enable", [:], inSession: true) }
        }
        return browser
    }

    private init(executable: String, width: Int, height: Int) throws {
        profile = FileManager.default.temporaryDirectory.appendingPathComponent("tpj-chromium-\(UUID().uuidString)")
        var commands: [Int32] = [0, 0], answers: [Int32] = [0, 0]
        guard pipe(&commands) == 0, pipe(&answers) == 0 else { throw Failure(description: "pipe: \(errno)") }
        for descriptor in commands + answers { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        guard min(commands[0], commands[1], answers[0], answers[1]) > 4 else { throw Failure(description: "pipe descriptors collide with 3 and 4") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, commands[0], 3)
        posix_spawn_file_actions_adddup2(&actions, answers[1], 4)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let closing = addCloseFrom(5, to: &actions)
        guard closing == 0 else { throw Failure(description: "cannot keep this process's descriptors from the browser (error \(closing))") }
        let arguments = [
            executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--remote-debugging-pipe", "--user-data-dir=\(profile.path)",
            "--window-size=\(width),\(height)", "about:blank",
        ]
        var argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // Its own temporary files (`org.chromium.Chromium.*`) go inside the profile, and go with it.
        let temporary = profile.appendingPathComponent("tmp")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        var environment = ProcessInfo.processInfo.environment
        environment["TMPDIR"] = temporary.path
        var envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        // A process group of its own, so that its helper processes can be stopped with it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, &argv, &envp)
        close(commands[0])
        close(answers[1])
        guard status == 0 else {
            close(commands[1])
            close(answers[0])
            throw Failure(description: "cannot start \(executable): \(String(cString: strerror(status)))")
        }
        process = pid
        toBrowser = commands[1]
        fromBrowser = answers[0]
    }

    /// Asks the browser to quit (so that it stops its helper processes and removes its own files under
    /// the temporary directory), kills it if it has not within five seconds, then stops whatever is left
    /// of its process group (a helper could still write into the profile) and removes the profile.
    deinit {
        close(toBrowser)
        close(fromBrowser)
        kill(process, SIGTERM)
        var status: Int32 = 0
        var exited = false
        for _ in 0..<100 where !exited {
            exited = waitpid(process, &status, WNOHANG) == process
            if !exited { usleep(50_000) }
        }
        if !exited {
            kill(process, SIGKILL)
            waitpid(process, &status, 0)
        }
        kill(-process, SIGKILL)
        try? FileManager.default.removeItem(at: profile)
    }

    // MARK: Page actions

    /// Opens `url` and waits for its load event (after any redirects).
    func open(_ url: String) async throws {
        try await run {
            $0.events.removeAll()
            _ = try $0.call("Page.navigate", ["url": .string(url)], inSession: true)
            try $0.waitForEvent("Page.loadEventFired")
        }
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns its JSON value.
    @discardableResult
    func evaluate(_ expression: String) async throws -> JSONValue {
        try await run { try $0.evaluateNow(expression) }
    }

    /// Evaluates `expression`, which makes the page navigate (a form submit, a click), and waits for the new page's load event.
    func evaluateAndWaitForLoad(_ expression: String) async throws {
        try await run {
            $0.events.removeAll()
            try $0.evaluateNow(expression)
            try $0.waitForEvent("Page.loadEventFired")
        }
    }

    /// The browser's cookies for `url`.
    func cookies(for url: String) async throws -> [JSONValue] {
        try await run {
            guard case .array(let cookies)? = try $0.call("Network.getCookies", ["urls": [.string(url)]], inSession: true)["cookies"] else { return [] }
            return cookies
        }
    }

    /// Makes the page `width` × `height` CSS pixels, as a phone's screen when `mobile`; reload to lay out anew.
    func setViewport(width: Int, height: Int, mobile: Bool) async throws {
        _ = try await run {
            try $0.call("Emulation.setDeviceMetricsOverride",
                        ["width": .number(JSONNumber(Int64(width))), "height": .number(JSONNumber(Int64(height))), "deviceScaleFactor": 1, "mobile": .bool(mobile)],
                        inSession: true)
        }
    }

    /// Saves a PNG of the whole page to `file`.
    func screenshot(to file: URL) async throws {
        let data = try await run { try $0.call("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true], inSession: true)["data"] }
        guard let base64 = data?.stringValue, let png = Data(base64Encoded: base64) else { throw Failure(description: "no screenshot data") }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try png.write(to: file)
    }

    // MARK: Protocol

    private func run<T: Sendable>(_ work: @escaping @Sendable (HeadlessBrowser) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work(self) }) }
        }
    }

    @discardableResult
    private func evaluateNow(_ expression: String) throws -> JSONValue {
        let answer = try call("Runtime.evaluate", ["expression": .string(expression), "awaitPromise": true, "returnByValue": true], inSession: true)
        if let exception = answer["exceptionDetails"] {
            throw Failure(description: "the page threw: \(exception["exception"]?["description"]?.stringValue ?? CanonicalJSON.string(exception))")
        }
        return answer["result"]?["value"] ?? .null
    }

    private func call(_ method: String, _ parameters: [String: JSONValue], inSession: Bool = false) throws -> JSONValue {
        let id = nextId
        nextId += 1
        var members = [JSONMember("id", .number(JSONNumber(Int64(id)))), JSONMember("method", .string(method)),
                       JSONMember("params", .object(parameters.map { JSONMember($0.key, $0.value) }))]
        if inSession { members.append(JSONMember("sessionId", .string(session))) }
        var bytes = Array(CanonicalJSON.string(.object(members)).utf8)
        bytes.append(0)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(toBrowser, $0.baseAddress, $0.count) }
            guard count > 0 else { throw Failure(description: "the browser closed its command pipe") }
            written += count
        }
        while true {
            let message = try readMessage()
            if message["id"] == .number(JSONNumber(Int64(id))) {
                if let error = message["error"] { throw Failure(description: "\(method): \(CanonicalJSON.string(error))") }
                return message["result"] ?? .null
            }
            if message["method"] != nil { events.append(message) }
        }
    }

    private func waitForEvent(_ method: String) throws {
        while true {
            if let index = events.firstIndex(where: { $0["method"]?.stringValue == method }) {
                events.remove(at: index)
                return
            }
            let message = try readMessage()
            if message["method"] != nil { events.append(message) }
        }
    }

    /// The next message, waiting at most 30 s.
    private func readMessage() throws -> JSONValue {
        while true {
            if let end = pending.firstIndex(of: 0) {
                let message = Array(pending[..<end])
                pending.removeFirst(end + 1)
                return try JSONParser.parse(message)
            }
            var poller = pollfd(fd: fromBrowser, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 30_000) == 1 else { throw Failure(description: "the browser did not answer within 30 s") }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fromBrowser, $0.baseAddress, $0.count) }
            guard count > 0 else { throw Failure(description: "the browser closed its answer pipe") }
            pending.append(contentsOf: chunk[..<count])
        }
    }
}
