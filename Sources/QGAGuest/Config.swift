import Glibc

/// qgad's settings, from qemu-ga's options and config file (`[general]` keys), so that
/// existing unit files, `/etc/qemu-ga/qemu-ga.conf` files and habits carry over.
public struct Config: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable {
        case virtioSerial = "virtio-serial"
        case isaSerial = "isa-serial"
        case unixListen = "unix-listen"
        case vsockListen = "vsock-listen"
    }

    public var daemonize = false
    public var method = Method.virtioSerial
    public var path: String?
    public var logfile: String?
    public var pidfile = "/var/run/qemu-ga.pid"
    public var fsfreezeHook: String?
    public var statedir = "/var/run"
    public var verbose = false
    public var retryPath = false
    public var blockRPCs: [String] = []
    public var allowRPCs: [String] = []
    /// qgad only: thaw by itself after this many seconds frozen (0: never).
    public var freezeTimeout: Double = 0

    public static let defaultConfigFile = "/etc/qemu-ga/qemu-ga.conf"
    public static let defaultFsfreezeHook = "/etc/qemu/fsfreeze-hook"

    public init() {}

    /// The channel path, or the method's default.
    public var channelPath: String? {
        if let path { return path }
        switch method {
        case .virtioSerial: return "/dev/virtio-ports/org.qemu.guest_agent.0"
        case .isaSerial: return "/dev/ttyS0"
        case .unixListen, .vsockListen: return nil
        }
    }

    /// The config as a keyfile, as `-D` prints it.
    public var dump: String {
        var lines = ["[general]", "daemon=\(daemonize)", "method=\(method.rawValue)"]
        if let path = channelPath { lines.append("path=\(path)") }
        if let logfile { lines.append("logfile=\(logfile)") }
        lines.append("pidfile=\(pidfile)")
        if let fsfreezeHook { lines.append("fsfreeze-hook=\(fsfreezeHook)") }
        lines.append("statedir=\(statedir)")
        lines.append("verbose=\(verbose)")
        lines.append("retry-path=\(retryPath)")
        if !allowRPCs.isEmpty { lines.append("allow-rpcs=\(allowRPCs.joined(separator: ","))") }
        lines.append("block-rpcs=\(blockRPCs.joined(separator: ","))")
        if freezeTimeout > 0 { lines.append("freeze-timeout=\(freezeTimeout)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A command line or config file qgad cannot accept; printed with the usage hint, exit 1.
public struct ConfigError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What the command line asks for besides settings.
public enum Action: Equatable {
    case run
    case help
    case version
    case dumpConfig
    case listRPCs
}

/// Parses qemu-ga's command line: getopt `hVvdc:m:p:l:f:F::b:a:s:t:Dr` with long names,
/// `--name=value` and `--name value`, and `-F` taking an optional attached argument.
/// The config file (`-c`, else `QGA_CONF`, else the default, which may be missing) is read
/// first; the command line overrides it, and lists accumulate.
public func parseCommandLine(_ arguments: [String], environment: (String) -> String?) throws(ConfigError) -> (Config, Action) {
    struct Option {
        let short: Character
        let long: String
        /// 0 none, 1 required, 2 optional (attached only)
        let argument: Int
    }
    let options = [
        Option(short: "h", long: "help", argument: 0), Option(short: "V", long: "version", argument: 0),
        Option(short: "v", long: "verbose", argument: 0), Option(short: "d", long: "daemonize", argument: 0),
        Option(short: "c", long: "config", argument: 1), Option(short: "m", long: "method", argument: 1),
        Option(short: "p", long: "path", argument: 1), Option(short: "l", long: "logfile", argument: 1),
        Option(short: "f", long: "pidfile", argument: 1), Option(short: "F", long: "fsfreeze-hook", argument: 2),
        Option(short: "b", long: "block-rpcs", argument: 1), Option(short: "a", long: "allow-rpcs", argument: 1),
        Option(short: "t", long: "statedir", argument: 1), Option(short: "D", long: "dump-conf", argument: 0),
        Option(short: "r", long: "retry-path", argument: 0), Option(short: "\u{0}", long: "freeze-timeout", argument: 1),
    ]
    var given: [(Character, String?)] = []
    var index = 0
    while index < arguments.count {
        let word = arguments[index]
        index += 1
        if word.hasPrefix("--") && word.count > 2 {
            let body = word.dropFirst(2)
            let name = body.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            let inline = body.contains("=") ? String(body.split(separator: "=", maxSplits: 1).last ?? "") : nil
            guard let option = options.first(where: { $0.long == name }) else {
                throw ConfigError("unrecognized option '--\(name)'")
            }
            switch option.argument {
            case 0:
                guard inline == nil else { throw ConfigError("option '--\(name)' doesn't allow an argument") }
                given.append((option.short, nil))
            case 1:
                if let inline {
                    given.append((option.short, inline))
                } else {
                    guard index < arguments.count else { throw ConfigError("option '--\(name)' requires an argument") }
                    given.append((option.short, arguments[index]))
                    index += 1
                }
            default:
                given.append((option.short, inline))
            }
        } else if word.hasPrefix("-") && word.count > 1 {
            var letters = Substring(word.dropFirst())
            while let letter = letters.first {
                letters = letters.dropFirst()
                guard let option = options.first(where: { $0.short == letter }) else {
                    throw ConfigError("invalid option -- '\(letter)'")
                }
                if option.argument == 0 {
                    given.append((letter, nil))
                    continue
                }
                if !letters.isEmpty {
                    given.append((letter, String(letters)))
                } else if option.argument == 2 {
                    given.append((letter, nil))
                } else {
                    guard index < arguments.count else { throw ConfigError("option requires an argument -- '\(letter)'") }
                    given.append((letter, arguments[index]))
                    index += 1
                }
                break
            }
        } else {
            throw ConfigError("unexpected argument '\(word)'")
        }
    }

    var config = Config()
    let explicitFile = given.last(where: { $0.0 == "c" })?.1
    let file = explicitFile ?? environment("QGA_CONF") ?? Config.defaultConfigFile
    if let text = readTextFile(file) {
        try applyKeyFile(text, to: &config, path: file)
    } else if explicitFile != nil {
        throw ConfigError("failed to load configuration file '\(file)'")
    }
    var fileBlock = config.blockRPCs
    var fileAllow = config.allowRPCs
    config.blockRPCs = []
    config.allowRPCs = []

    var action = Action.run
    for (letter, value) in given {
        switch letter {
        case "h": action = .help
        case "V": action = .version
        case "D": action = .dumpConfig
        case "v": config.verbose = true
        case "d": config.daemonize = true
        case "r": config.retryPath = true
        case "c": break
        case "m":
            guard let method = Config.Method(rawValue: value ?? "") else {
                throw ConfigError("invalid method '\(value ?? "")'; use virtio-serial, isa-serial, unix-listen or vsock-listen")
            }
            config.method = method
        case "p": config.path = value
        case "l": config.logfile = value
        case "f": config.pidfile = value ?? config.pidfile
        case "F": config.fsfreezeHook = value ?? Config.defaultFsfreezeHook
        case "t": config.statedir = value ?? config.statedir
        case "\u{0}":
            guard let seconds = value.flatMap(Double.init), seconds >= 0 else {
                throw ConfigError("invalid --freeze-timeout '\(value ?? "")': give seconds, 0 to disable")
            }
            config.freezeTimeout = seconds
        case "b", "a":
            let list = (value ?? "").split(separator: ",").map(String.init)
            if list.contains("help") {
                action = .listRPCs
            } else if letter == "b" {
                config.blockRPCs += list
            } else {
                config.allowRPCs += list
            }
        default: break
        }
    }
    if !config.blockRPCs.isEmpty && !config.allowRPCs.isEmpty {
        throw ConfigError("wrong commandline, using --block-rpcs and --allow-rpcs at the same time is not allowed")
    }
    // Lists from the file come first; the command line adds to them.
    config.blockRPCs = fileBlock + config.blockRPCs
    config.allowRPCs = fileAllow + config.allowRPCs
    fileBlock = []
    fileAllow = []
    if config.method == .unixListen && config.path == nil && action == .run && environment("LISTEN_FDS") == nil {
        throw ConfigError("must specify a path for this channel")
    }
    return (config, action)
}

/// Applies a GLib-style keyfile: group `[general]`, `key=value`, `#` comments.
func applyKeyFile(_ text: String, to config: inout Config, path: String) throws(ConfigError) {
    var group = ""
    var sawBlock = false
    var sawAllow = false
    for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
        let line = rawLine.trimmingWhitespace()
        if line.isEmpty || line.hasPrefix("#") { continue }
        if line.hasPrefix("[") && line.hasSuffix("]") {
            group = String(line.dropFirst().dropLast())
            continue
        }
        guard group == "general", let equals = line.firstIndex(of: "=") else { continue }
        let key = line[..<equals].trimmingWhitespace()
        let value = String(line[line.index(after: equals)...].trimmingWhitespace())
        func bool() throws(ConfigError) -> Bool {
            switch value.lowercased() {
            case "true", "1", "yes": return true
            case "false", "0", "no": return false
            default: throw ConfigError("\(path): key '\(key)' in group 'general' has value '\(value)' that cannot be interpreted as a boolean")
            }
        }
        switch key {
        case "daemon": config.daemonize = try bool()
        case "method":
            guard let method = Config.Method(rawValue: value) else { throw ConfigError("\(path): invalid method '\(value)'") }
            config.method = method
        case "path": config.path = value
        case "logfile": config.logfile = value
        case "pidfile": config.pidfile = value
        case "fsfreeze-hook": config.fsfreezeHook = value.isEmpty ? Config.defaultFsfreezeHook : value
        case "statedir": config.statedir = value
        case "verbose": config.verbose = try bool()
        case "retry-path": config.retryPath = try bool()
        case "block-rpcs":
            config.blockRPCs = value.split(separator: ",").map { String($0.trimmingWhitespace()) }
            sawBlock = true
        case "allow-rpcs":
            config.allowRPCs = value.split(separator: ",").map { String($0.trimmingWhitespace()) }
            sawAllow = true
        case "freeze-timeout":
            guard let seconds = Double(value), seconds >= 0 else { throw ConfigError("\(path): invalid freeze-timeout '\(value)'") }
            config.freezeTimeout = seconds
        default: break
        }
    }
    if sawBlock && sawAllow && !config.blockRPCs.isEmpty && !config.allowRPCs.isEmpty {
        throw ConfigError("\(path): using block-rpcs and allow-rpcs at the same time is not allowed")
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> SubSequence {
        var s = self[...]
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s = s.dropLast() }
        return s
    }
}

/// A whole (small) text file, or nil if it cannot be read.
func readTextFile(_ path: String, limit: Int = 1 << 20) -> String? {
    guard let bytes = readFile(path, limit: limit) else { return nil }
    return String(decoding: bytes, as: UTF8.self)
}

/// A whole (small) file's bytes, or nil if it cannot be read.
func readFile(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while out.count < limit {
        let n = read(fd, &chunk, chunk.count)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        out += chunk[0..<n]
    }
    return out
}
