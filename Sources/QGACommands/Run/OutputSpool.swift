import QGAClient
import QGALibvirt
import QGAProtocol
import QGASystem

/// Through libvirt, a command's output must never come back in one guest-exec-status reply
/// too large for libvirt: past its 4 MiB RPC string the reply is lost, and at 10 MiB libvirt
/// stops reading the agent and refuses every agent command for the domain until it
/// reconnects (a domain restart). So there the command runs under a small `/bin/sh` wrapper
/// that sends its stdout and stderr to new root-only files in the guest's /tmp. When
/// they are small together, the wrapper passes them on as its own output and removes them,
/// and the status reply carries them as usual. When they are larger, the wrapper leaves them
/// and says so with a marker only qga knows, and qga reads them in chunks that fit
/// (guest-file-read) and removes them.
struct OutputSpool {
    /// The files' common path in the guest, named by qga (random): the wrapper creates
    /// `PATH.out` and `PATH.err` only where nothing is, so they are always its own.
    let files: String
    /// The wrapper's word on stderr for "the output is in the files" or "no spool".
    let token: String
    /// What fits one status reply within libvirt's RPC string, base64 and all.
    static let inlineLimit = LibvirtAgent.maxReadCount

    init<R: RandomNumberGenerator>(using generator: inout R) {
        let word = String(UInt64.random(in: .min ... .max, using: &generator), radix: 16)
        files = "/tmp/qga-run-\(word)"
        token = "qga-run-\(String(UInt64.random(in: .min ... .max, using: &generator), radix: 16))"
    }

    init() {
        var generator = SystemRandomNumberGenerator()
        self.init(using: &generator)
    }

    /// What the shell adds to the environment of what it runs, removed again when `-e`
    /// gives the command its whole environment (unless `-e` names them itself).
    static let shellVariables = ["PWD", "OLDPWD", "SHLVL", "PATH"]

    /// The wrapper: `$1` the files' common path, `$2` the inline limit, `$3` the token, `$4`
    /// the variables to unset, then the command. Under TCG every process it starts costs tens
    /// of milliseconds, so it starts few: the files are created by the shell itself with
    /// noclobber (O_EXCL: nothing already there, not even a symbolic link, is written
    /// through; `true`, not the special built-in `:`, whose failed redirection would end the
    /// shell), and wc, cat and rm run only for output that is there. Its own tools run with
    /// a PATH of their own, so that `-e` cannot take them away; the command is looked up
    /// before PATH goes. The command runs in a subshell while the wrapper's stderr points
    /// nowhere: a shell reports a child that a signal ended ("Terminated") on its stderr,
    /// which is neither the command's output nor the marker. Its status comes back as the
    /// shell's 128+N.
    static let script = """
        f=$1 limit=$2 token=$3 drop=$4; shift 4
        if ! command -v -- "$1" >/dev/null; then printf '%s: command not found\\n' "$1" >&2; exit 127; fi
        p=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        umask 077
        set -C
        if ! { true >"$f.out" && true >"$f.err"; }; then printf '%s unspooled\\n' "$token" >&2; exit 125; fi
        set +C
        if [ -n "$drop" ]; then
            case $1 in */*) ;; *) c=$(command -v -- "$1") && shift && set -- "$c" "$@" ;; esac
            unset $drop
        fi
        exec 3>&2 2>/dev/null
        ("$@" >>"$f.out" 2>>"$f.err" 3>&-)
        s=$?
        exec 2>&3 3>&-
        n=0
        if [ -s "$f.out" ] || [ -s "$f.err" ]; then set -- $(PATH=$p wc -c "$f.out" "$f.err"); n=$5; fi
        if [ "$n" -le "$limit" ]; then
            [ ! -s "$f.out" ] || PATH=$p cat -- "$f.out"
            [ ! -s "$f.err" ] || PATH=$p cat -- "$f.err" >&2
            PATH=$p rm -f -- "$f.out" "$f.err"
        else
            printf '%s spooled\\n' "$token" >&2
        fi
        exit "$s"
        """

    /// The argv that runs `command` under the wrapper; `environment` is what `-e` gave.
    func wrap(_ command: [String], environment: [String]) -> [String] {
        var drop: [String] = []
        if !environment.isEmpty {
            let given = Set(environment.map { String($0.prefix { $0 != "=" }) })
            drop = OutputSpool.shellVariables.filter { !given.contains($0) }
        }
        return GuestProcess.shell(OutputSpool.script, [files, String(OutputSpool.inlineLimit), token, drop.joined(separator: " ")] + command)
    }

    /// What the wrapper's exit says about where the output is.
    enum Outcome: Equatable {
        /// In the status reply, as without the wrapper.
        case inline
        /// In the files `.out` and `.err`.
        case spooled
        /// The wrapper could not create the files; `said` is what the shell said. The
        /// command did not run.
        case unspooled(said: String)
    }

    /// Reads the wrapper's marker: only stderr ending in it counts (a command could print
    /// the word itself only by reading qga's argv in the guest, and then it merely makes qga
    /// read the wrapper's own files).
    func outcome(stdout: [UInt8], stderr: [UInt8]) -> Outcome {
        let spooled = Array("\(token) spooled\n".utf8)
        if stdout.isEmpty, stderr == spooled { return .spooled }
        let unspooled = Array("\(token) unspooled\n".utf8)
        if stdout.isEmpty, stderr.count >= unspooled.count, Array(stderr.suffix(unspooled.count)) == unspooled {
            let said = String(decoding: stderr.dropLast(unspooled.count).prefix(1024), as: UTF8.self)
            return .unspooled(said: said.split(whereSeparator: \.isNewline).joined(separator: "; "))
        }
        return .inline
    }

    /// The outcome a status reply says.
    func outcome(of status: JSONObject, label: String) throws -> Outcome {
        outcome(
            stdout: try GuestProcess.output(status, "out-data", label: label) ?? [],
            stderr: try GuestProcess.output(status, "err-data", label: label) ?? [])
    }

    /// The shell script that ends a command run under the wrapper: its children (the
    /// command), so that the wrapper still reports and removes what the command left; the
    /// wrapper itself when it has none. `$1` is the wrapper's pid.
    static let killScript = """
        k=$(cat "/proc/$1/task/$1/children" 2>/dev/null)
        kill -KILL ${k:-$1}
        """

    /// Streams the file `name` (`out` or `err`) to `deliver`, in chunks
    /// that fit libvirt's replies: as much as it held when the command ended (no more, so a
    /// process the command left behind cannot keep qga reading), and at most `limit` bytes.
    /// True when `limit` cut it.
    func read(_ name: String, connection: any AgentConnection, options: CallOptions, limit: Int?, deliver: ([UInt8]) throws -> Void) throws -> Bool {
        let file = try GuestFile(agent: connection, options: options, path: "\(files).\(name)", mode: "r")
        do {
            let size = try file.seek(0, "end")
            _ = try file.seek(0, "set")
            let chunk = ChunkSizes.forConnection(throughLibvirt: connection.throughLibvirt, maxReplySize: options.maxReplySize).read
            var left = min(size, limit ?? size)
            while left > 0 {
                let (bytes, eof) = try file.read(min(chunk, left))
                left -= bytes.count
                try deliver(bytes)
                if eof || bytes.isEmpty { break }
            }
            try file.close()
            return size > (limit ?? size)
        } catch {
            file.closeQuietly()
            throw error
        }
    }

    /// The two files, as messages name them.
    var named: String { "\(files).out and .err" }

    /// What a message says of output that may be left behind in the guest.
    var mayStay: String { "its output, if more than \(OutputSpool.inlineLimit) bytes, stays in the guest's \(named)" }

    /// Removes the wrapper's files: false when that failed or did not finish within 10 s
    /// (they are then left in the guest's /tmp).
    func remove(with process: GuestProcess) -> Bool {
        guard let pid = try? process.start(GuestProcess.shell("rm -f -- \"$1.out\" \"$1.err\"", [files])),
            let status = try? process.wait(pid, deadline: Deadline.after(seconds: 10))
        else { return false }
        return status["exitcode"]?.number?.int == 0
    }
}

/// Bytes regrouped into whole lines, so that each piece passed on ends at a line break: a
/// UTF-8 sequence is never split for the terminal's escaping, nor a line for the target's
/// name in front. A line longer than `longest` goes on in parts.
struct LineChunks {
    private var carry: [UInt8] = []
    static let longest = 1 << 20

    /// The whole lines so far (with what was carried before them).
    mutating func add(_ bytes: [UInt8]) -> [UInt8] {
        carry += bytes
        guard let end = carry.lastIndex(of: 0x0A) else {
            guard carry.count > LineChunks.longest else { return [] }
            defer { carry = [] }
            return carry
        }
        let whole = Array(carry[...end])
        carry.removeSubrange(...end)
        return whole
    }

    /// What is left after the last line break.
    mutating func finish() -> [UInt8] {
        defer { carry = [] }
        return carry
    }
}
