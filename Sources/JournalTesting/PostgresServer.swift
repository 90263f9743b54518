import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A throw-away PostgreSQL server for tests and benchmarks: `initdb` and `pg_ctl` in a temporary
/// directory, listening only on a Unix socket there, stopped and removed when the process exits.
/// PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user.
///
/// ```swift
/// let url = try PostgresServer.shared().newDatabase()   // postgres://postgres@localhost/t1?host=/tmp/…
/// ```
public final class PostgresServer: Sendable {
    /// The directory of `initdb`, `pg_ctl` and `psql`: `$TPJ_PG_BIN` when set (nil when it holds no
    /// `initdb`), else the newest under `/usr/lib/postgresql/*/bin` (Debian's layout), else nil.
    public static let binaries: String? = {
        if let given = ProcessInfo.processInfo.environment["TPJ_PG_BIN"], !given.isEmpty {
            return FileManager.default.isExecutableFile(atPath: given + "/initdb") ? given : nil
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        return versions.reversed().map { "\(root)/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: "\($0)/initdb") }
    }()

    /// Why the PostgreSQL tests cannot run here, shown as their skip message.
    public static let unavailable = "PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin or $TPJ_PG_BIN): the PostgreSQL half of the conformance suite is skipped; .ci/run installs it"

    public static var isAvailable: Bool { binaries != nil }

    public let directory: String
    public let port = 5432
    /// The server's main process (the postmaster).
    public let processIdentifier: Int32
    private let databases = Atomic<Int>(0)

    private static let started = Mutex<Result<PostgresServer, any Error>?>(nil)

    /// The server of this test process, started on first use; it does not sync to disk.
    public static func shared() throws -> PostgresServer {
        try started.withLock { started in
            if let started { return try started.get() }
            let result = Result { try PostgresServer(durable: false) }
            started = result
            return try result.get()
        }
    }

    /// Starts a server of this process's own.
    ///
    /// - Parameters:
    ///   - durable: whether commits wait for the disk (`fsync`), as a production server's do; tests run
    ///     faster without.
    ///   - settings: further server settings, `name=value` each.
    public init(durable: Bool, settings: [String] = []) throws {
        guard Self.binaries != nil else { throw ServerError(Self.unavailable) }
        var template = Array("/tmp/tpj-postgres-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ServerError("mkdtemp failed (errno \(errno))") }
        directory = String(cString: made)
        let owner = getuid() == 0 ? getpwnam("postgres") : nil
        if getuid() == 0 {
            guard let owner else { throw ServerError("running as root, and there is no postgres user to run PostgreSQL as") }
            guard chown(directory, owner.pointee.pw_uid, owner.pointee.pw_gid) == 0 else {
                throw ServerError("chown \(directory) failed (errno \(errno))")
            }
        }
        let data = directory + "/data"
        try Self.run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"], in: directory)
        let sync = durable ? "" : " -c fsync=off -c full_page_writes=off"
        let options = "-k \(directory) -p \(port) -c listen_addresses= -c max_connections=100" + sync
            + settings.map { " -c \($0)" }.joined()
        try Self.run("pg_ctl", ["-D", data, "-l", directory + "/server.log", "-w", "-t", "60", "-o", options, "start"], in: directory)
        let pidLine = try String(contentsOfFile: data + "/postmaster.pid", encoding: .utf8).split(separator: "\n").first
        guard let pid = pidLine.flatMap({ Int32($0) }) else { throw ServerError("no postmaster.pid after the server started") }
        processIdentifier = pid
        Self.stopAtExit(pid: pid, directory: directory)
    }

    /// A new, empty database; its URL.
    public func newDatabase() throws -> String {
        let name = "t\(databases.add(1, ordering: .relaxed).newValue)"
        try execute("CREATE DATABASE \(name)")
        return url(name)
    }

    /// Runs `sql` with `psql` as the superuser, in `database`.
    public func execute(_ sql: String, in database: String = "postgres") throws {
        try Self.run("psql", ["-h", directory, "-p", String(port), "-U", "postgres", "-d", database, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], in: directory)
    }

    /// Runs one of the server's programs (`pg_dump`, `pg_restore`, `createdb` …) with `arguments`, as the
    /// server's user, connected to this server; files it writes belong in ``directory``.
    public func runProgram(_ name: String, _ arguments: [String]) throws {
        try Self.run(name, ["-h", directory, "-p", String(port), "-U", "postgres"] + arguments, in: directory)
    }

    /// The URL of `database`, connecting as `user`.
    public func url(_ database: String, user: String = "postgres") -> String {
        "postgres://\(user)@localhost:\(port)/\(database)?host=\(directory)"
    }

    /// Runs the PostgreSQL program `name` to its end (as the `postgres` user when this process is root); throws
    /// with its output when it fails. Spawned and waited for directly, its output into a file: the
    /// server `pg_ctl` starts outlives `pg_ctl` and would hold a pipe open.
    private static func run(_ name: String, _ arguments: [String], in directory: String) throws {
        let program = binaries! + "/" + name
        let outputPath = directory + "/\(name).out"
        let argv = (getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", program] : [program]) + arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let closing = addCloseFrom(3, to: &actions)
        guard closing == 0 else { throw ServerError("cannot keep this process's descriptors from \(name) (error \(closing))") }
        var pid: pid_t = 0
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
        guard spawned == 0 else { throw ServerError("cannot start \(argv[0]) (error \(spawned))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        // Exited normally (low 7 bits 0) with code 0.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            throw ServerError("\(name) \(arguments.joined(separator: " ")) failed (status \(status)): \(text)")
        }
    }

    /// At the process's exit: an immediate shutdown of each server started, then its directory removed.
    private static func stopAtExit(pid: Int32, directory: String) {
        let first = stopping.withLock { servers in
            servers.append((pid, directory))
            return servers.count == 1
        }
        guard first else { return }
        atexit {
            for (pid, directory) in PostgresServer.stopping.withLock({ $0 }) {
                kill(pid, SIGQUIT)
                for _ in 0..<100 where kill(pid, 0) == 0 { usleep(50_000) }
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
    }

    private static let stopping = Mutex<[(Int32, String)]>([])
}

public struct ServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
