import Foundation
import Glibc
import QGAProtocol
import QGATestSupport
import Testing

/// The test bed must be up when scripts/test says so; otherwise the VM suites are skipped.
@Test func testBedIsUpWhenRequired() {
    #expect(!TestBed.required || TestBed.current != nil, "scripts/vm-testbed up did not provide a test bed")
}

/// `qga` against a real guest under libvirt: through libvirt, through the direct channel,
/// errors, fsfreeze, freeze-run and snapshots. The guest stays up (lifecycle runs last,
/// in VMLifecycleTests).
@Suite(.serialized, .enabled(if: TestBed.current != nil, "the VM test bed is not up (scripts/vm-testbed up)"))
struct VMAgentTests {
    let bed = TestBed.current!

    @Test func execThroughLibvirt() throws {
        let result = try bed.qga("exec", [bed.domain, "guest-info"])
        #expect(result.status == 0, "\(result)")
        let info = try JSONParser.parse(result.stdout)
        #expect(info["version"]?.string != nil)
        #expect(info.object?.keys == ["version", "supported_commands"])
    }

    @Test func execThroughTheDirectChannel() throws {
        let viaDomain = try bed.qga("exec", ["--channel", "org.qemu.guest_agent.1", bed.domain, "guest-info", "--compact"])
        #expect(viaDomain.status == 0, "\(viaDomain)")
        #expect(try JSONParser.parse(viaDomain.stdout)["version"] != nil)
        let viaSocket = try Binaries.qga(["exec", bed.directSocket, "guest-get-osinfo"])
        #expect(viaSocket.status == 0, "\(viaSocket)")
    }

    @Test func agentErrorThroughLibvirtExitsOne() throws {
        let result = try bed.qga("exec", [bed.domain, "guest-no-such-command"])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("guest-no-such-command"))
    }

    @Test func unknownDomainExitsTwo() throws {
        let result = try bed.qga("exec", ["qga-no-such-domain", "guest-ping"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("not found"))
    }

    @Test func domainWithoutAgentExitsTwo() throws {
        let result = try bed.qga("exec", [bed.noAgentDomain, "guest-ping"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("not configured"))
        let snapshot = try bed.qga("snapshot", [bed.noAgentDomain, "--disk-only"])
        #expect(snapshot.status == 2, "\(snapshot)")
    }

    @Test func lifecycleWithoutAnAgentFailsPlainly() throws {
        // No agent channel: exit 2, and no ACPI fallback unless asked for.
        for command in ["shutdown", "reboot"] {
            let result = try bed.qga(command, [bed.noAgentDomain])
            #expect(result.status == 2, "\(command): \(result)")
            #expect(result.stderr.contains("not configured"))
        }
        let socket = try Binaries.qga(["shutdown", bed.directSocket, "--fallback", "acpi"])
        #expect(socket.status == 64, "\(socket)")
    }

    @Test func largeReadsThroughLibvirtAreRefusedBeforeSending() throws {
        let result = try bed.qga("exec", [bed.domain, "guest-file-read", "handle:=1", "count:=8388608"])
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("4 MiB"))
    }

    @Test func freezeBlocksGuestWritesUntilThaw() throws {
        defer { _ = try? bed.qga("fsfreeze", ["thaw", bed.domain]) }
        let frozen = try bed.qga("fsfreeze", ["freeze", bed.domain])
        #expect(frozen.status == 0, "\(frozen)")
        #expect((Int(frozen.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 1)
        #expect(try bed.freezeStatus() == "frozen")

        // The second agent (on the direct channel) is not frozen itself; it starts a write
        // to the frozen filesystem, which must block until the thaw.
        let exec = try Binaries.qga([
            "exec", bed.directSocket, "guest-exec", "path=/bin/sh",
            #"arg:=["-c", "echo written > /mnt/data/during-freeze.txt"]"#, "--compact",
        ])
        #expect(exec.status == 0, "\(exec)")
        let pid = try #require(try JSONParser.parse(exec.stdout)["pid"]?.number?.text)
        func exited() throws -> Bool {
            let status = try Binaries.qga(["exec", bed.directSocket, "guest-exec-status", "pid:=\(pid)", "--compact"])
            return try JSONParser.parse(status.stdout)["exited"] == .bool(true)
        }
        usleep(2_000_000)
        #expect(try !exited(), "the write finished while the filesystem was frozen")

        let thawed = try bed.qga("fsfreeze", ["thaw", bed.domain, "--json"])
        #expect(thawed.status == 0, "\(thawed)")
        #expect(thawed.stdoutText.hasPrefix(#"{"thawed":"#))
        #expect(try bed.eventually(15) { try exited() }, "the write did not finish after the thaw")
        #expect(try bed.freezeStatus() == "thawed")
    }

    @Test func freezeRunThawsAfterAFailingCommand() throws {
        let qga = try Binaries.path("qga")
        // The host command checks that the guest is frozen while it runs, then fails.
        let check = "'\(qga)' fsfreeze status -c '\(bed.uri)' '\(bed.domain)' | grep -qx frozen && exit 3; exit 9"
        let result = try bed.qga("freeze-run", [bed.domain, "--", "/bin/sh", "-c", check])
        #expect(result.status == 3, "\(result)")
        #expect(result.stderr.contains("froze"))
        #expect(result.stderr.contains("thawed"))
        #expect(try bed.freezeStatus() == "thawed")
    }

    @Test func freezeRunThawsOnSIGTERM() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pid = try bed.startQGA("freeze-run", [bed.domain, "--", "/bin/sleep", "60"], log: dir.path + "/log")
        #expect(try bed.eventually(30) { try bed.freezeStatus() == "frozen" })
        kill(pid, SIGTERM)
        let status = waitForExit(pid, timeout: 60)
        #expect(status == 128 + SIGTERM)
        let log = (try? String(contentsOfFile: dir.path + "/log", encoding: .utf8)) ?? ""
        #expect(log.contains("thawed"), "\(log)")
        #expect(try bed.freezeStatus() == "thawed")
    }

    @Test func freezeRunThawsWhenFrozenTooLong() throws {
        let result = try bed.qga("freeze-run", [bed.domain, "--max-frozen", "2", "--", "/bin/sleep", "60"])
        #expect(result.status == 124, "\(result)")
        #expect(result.seconds < 30)
        #expect(try bed.freezeStatus() == "thawed")
    }

    @Test func quiescedDiskOnlySnapshot() throws {
        let name = "qga-test-\(getpid())"
        let result = try bed.qga("snapshot", [bed.domain, "--disk-only", "--atomic", "--name", name])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutText == name + "\n")
        let listed = try bed.virsh(["snapshot-list", bed.domain, "--name"])
        #expect(listed.stdoutText.contains(name), "\(listed)")
        #expect(try bed.freezeStatus() == "thawed")
        _ = try bed.virsh(["snapshot-delete", bed.domain, name, "--metadata"])
    }
}

/// libvirt's own agent features against whichever agent the guest runs (qemu-ga, or qgad
/// when scripts/test boots the test bed with it).
@Suite(.serialized, .enabled(if: TestBed.current != nil, "the VM test bed is not up (scripts/vm-testbed up)"))
struct VMLibvirtFeatureTests {
    let bed = TestBed.current!

    func virsh(_ arguments: [String]) throws -> ProcessResult {
        let result = try bed.virsh(arguments)
        #expect(result.status == 0, "virsh \(arguments.joined(separator: " ")): \(result)")
        return result
    }

    @Test func guestinfo() throws {
        let info = try virsh(["guestinfo", bed.domain, "--os", "--hostname", "--timezone"])
        #expect(info.stdoutText.contains("os.kernel-release"), "\(info)")
    }

    @Test func domfsinfoListsTheDataDisk() throws {
        let info = try virsh(["domfsinfo", bed.domain])
        #expect(info.stdoutText.contains("/mnt/data"), "\(info)")
        #expect(info.stdoutText.contains("ext4"), "\(info)")
    }

    @Test func domfsfreezeAndThaw() throws {
        let frozen = try virsh(["domfsfreeze", bed.domain])
        #expect(frozen.stdoutText.contains("Froze 1 filesystem"), "\(frozen)")
        #expect(try bed.freezeStatus() == "frozen")
        let thawed = try virsh(["domfsthaw", bed.domain])
        #expect(thawed.stdoutText.contains("Thawed 1 filesystem"), "\(thawed)")
        #expect(try bed.freezeStatus() == "thawed")
    }

    @Test func domifaddrFromTheAgent() throws {
        let result = try virsh(["domifaddr", bed.domain, "--source", "agent"])
        #expect(result.stdoutText.contains("lo"), "\(result)")
        #expect(result.stdoutText.contains("127.0.0.1"), "\(result)")
    }

    @Test func domtime() throws {
        let result = try virsh(["domtime", bed.domain])
        #expect(result.stdoutText.contains("Time:"), "\(result)")
    }

    @Test func setUserPassword() throws {
        _ = try virsh(["set-user-password", bed.domain, "root", "s3cret-test"])
        // The password field of root is no longer the locked '*'.
        let started = try Binaries.qga([
            "exec", bed.directSocket, "guest-exec", "path=/bin/grep", #"arg:=["-q","^root:[$]6[$]","/etc/shadow"]"#, "--compact",
        ])
        let pid = try #require(try JSONParser.parse(started.stdout)["pid"]?.number?.text)
        var status: JSONValue?
        _ = try bed.eventually(10) {
            status = try JSONParser.parse(try Binaries.qga(["exec", bed.directSocket, "guest-exec-status", "pid:=\(pid)", "--compact"]).stdout)
            return status?["exited"] == true
        }
        #expect(status?["exitcode"] == 0, "root's password was not set: \(String(describing: status))")
    }

    /// libvirt's ssh key calls for the guest's `guest` user (home /home/guest, no ~/.ssh at
    /// boot). virsh splits a key file on newlines and sends the empty string after the last
    /// one too, which qemu-ga accepts.
    @Test func userSSHKeys() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (k1, k2, k3) = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK1 k1@host", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQk2 k2@host", "ssh-ed25519 AAAAk3 k3")
        try "\(k1)\n\(k2)\n".write(toFile: dir.path + "/both", atomically: false, encoding: .utf8)
        try "\(k3)\n".write(toFile: dir.path + "/third", atomically: false, encoding: .utf8)
        try "\(k1)\n".write(toFile: dir.path + "/first", atomically: false, encoding: .utf8)
        // virsh 9.0 prints the keys in the agent's order (qemu-ga's: last line first) with no
        // separator between them.
        func listed() throws -> String {
            try virsh(["get-user-sshkeys", bed.domain, "guest"]).stdoutText.trimmingCharacters(in: .newlines)
        }

        _ = try virsh(["set-user-sshkeys", bed.domain, "guest", "--file", dir.path + "/both", "--reset"])
        #expect(try listed() == k2 + k1)
        _ = try virsh(["set-user-sshkeys", bed.domain, "guest", "--file", dir.path + "/third"])
        #expect(try listed() == k3 + k2 + k1)
        _ = try virsh(["set-user-sshkeys", bed.domain, "guest", "--remove", "--file", dir.path + "/first"])
        #expect(try listed() == k3 + k2)

        // ~/.ssh was made for the user, 0700, and the file is theirs, 0600.
        let started = try Binaries.qga([
            "exec", bed.directSocket, "guest-exec", "path=/bin/busybox", "capture-output:=true", "--compact",
            #"arg:=["stat","-c","%n %u:%g %a","/home/guest/.ssh","/home/guest/.ssh/authorized_keys"]"#,
        ])
        let pid = try #require(try JSONParser.parse(started.stdout)["pid"]?.number?.text)
        var status: JSONValue?
        _ = try bed.eventually(10) {
            status = try JSONParser.parse(try Binaries.qga(["exec", bed.directSocket, "guest-exec-status", "pid:=\(pid)", "--compact"]).stdout)
            return status?["exited"] == true
        }
        let output = status?["out-data"]?.string.flatMap { Base64.decode($0) }.map { String(decoding: $0, as: UTF8.self) }
        #expect(output == "/home/guest/.ssh 1000:1000 700\n/home/guest/.ssh/authorized_keys 1000:1000 600\n", "\(String(describing: status))")
    }
}
