import Foundation
import Journal

/// Paths and processes for tests that run the real `tpj` binary and read the repository's files.
public enum TestSupport {
    /// The repository root (where Package.swift is).
    public static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    /// The `tpj` executable built beside the test bundle.
    public static var tpj: URL {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tpj"),
            repositoryRoot.appendingPathComponent(".build/debug/tpj"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[1]
    }

    /// A new empty directory for this test process, under `$TMPDIR/tpj-tests/run-<pid>/`.
    ///
    /// Directories of earlier runs whose process has ended are removed when the first one is made, so
    /// test runs leave behind at most their own files.
    public static func temporaryDirectory(_ label: String = "tpj-test") -> URL {
        let url = runDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    private static let runDirectory: URL = {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tpj-tests")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [] {
            guard name.hasPrefix("run-"), let pid = Int32(name.dropFirst(4)), pid != getpid() else { continue }
            if kill(pid, 0) != 0 { try? FileManager.default.removeItem(at: root.appendingPathComponent(name)) }
        }
        return root.appendingPathComponent("run-\(getpid())")
    }()

    /// What a finished process printed.
    public struct ProcessResult: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `tpj` with `arguments` in `directory`, feeding `input` to its standard input.
    public static func runTPJ(
        _ arguments: [String], in directory: URL, input: String? = nil, environment: [String: String] = [:]
    ) throws -> ProcessResult {
        try run(tpj, arguments, in: directory, input: input.map { Data($0.utf8) }, environment: environment)
    }

    /// A child that did not end within its time limit.
    public struct ProcessTimeout: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs an executable and waits for it, at most `timeLimit` seconds.
    public static func run(
        _ executable: URL, _ arguments: [String], in directory: URL, input: Data? = nil,
        environment: [String: String] = [:], timeLimit: Int = 900
    ) throws -> ProcessResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "TPJ_DB")
        env.removeValue(forKey: "TPJ_SCHEMA_DIR")
        env.merge(environment) { _, new in new }
        process.environment = env
        // Output goes to files: a pipe that nobody drains would block a talkative child.
        let scratch = temporaryDirectory("tpj-process")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer {
            try? out.close()
            try? err.close()
        }
        let inPipe = input.map { _ in Pipe() }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inPipe ?? FileHandle.nullDevice
        // A child that never ends fails its test, naming the command, rather than hanging the whole run.
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        if let input, let inPipe {
            inPipe.fileHandleForWriting.write(input)
            try inPipe.fileHandleForWriting.close()
        }
        guard exited.wait(timeout: .now() + .seconds(timeLimit)) == .success else {
            kill(-process.processIdentifier, SIGKILL)  // its process group: Foundation gives the child one of its own
            throw ProcessTimeout(description: "\(executable.lastPathComponent) \(arguments.joined(separator: " ")) did not end within \(timeLimit) s")
        }
        return ProcessResult(
            status: process.terminationStatus,
            stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }
}
