using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Millrace.Redis.Tests.Support;

namespace Millrace.Redis.Tests.Connections;

/// <summary>
/// The client against a deliberately broken peer: a tiny TCP server in this file that answers the
/// handshake's PINGs and then misbehaves (garbage, half a reply, closing, silence). It is not a Redis
/// stand-in. Every failure must surface as the right exception type with a useful message, and no
/// call may hang: each is bounded by <see cref="NoHang"/>.
/// </summary>
public sealed class BrokenPeerTests
{
    private static readonly TimeSpan NoHang = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ShortTimeout = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Command_WhenPeerAnswersWithGarbage_FailsWithProtocolErrorNamingTheByte()
    {
        // Given: a peer that answers the first real command with bytes that are not RESP
        await using var peer = new FakePeer(async (connection, _) =>
        {
            if (await connection.ReadCommandAnsweringPingsAsync() is null)
            {
                return;
            }

            await connection.SendAsync("@@@ this is not RESP\r\n");
            await connection.WaitForEndAsync();
        });
        await using var redis = await RedisClient.ConnectAsync(OptionsFor(peer)).WaitAsync(NoHang);

        // When
        var error = await CaptureAsync(redis.ExecuteAsync(Get("k")), "GET answered with garbage");

        // Then
        ExpectType<RedisProtocolException>(error);
        ExpectMessage(error, "unexpected byte", "'@'", peer.Address);
    }

    [Fact]
    public async Task Command_WhenPeerSendsHalfABulkStringThenCloses_FailsSayingTheConnectionClosedMidReply()
    {
        // Given: a peer that starts a 10-byte bulk string, sends 3 bytes of it and closes
        await using var peer = new FakePeer(async (connection, _) =>
        {
            if (await connection.ReadCommandAnsweringPingsAsync() is null)
            {
                return;
            }

            await connection.SendAsync("$10\r\nhel");
            connection.Close();
        });
        await using var redis = await RedisClient.ConnectAsync(OptionsFor(peer)).WaitAsync(NoHang);

        // When
        var error = await CaptureAsync(redis.ExecuteAsync(Get("k")), "GET answered with half a bulk string");

        // Then: a protocol (or connection) error that says the reply was cut off
        Assert.True(error is RedisConnectionException,
            $"Expected RedisProtocolException or RedisConnectionException but got {error.GetType().Name}: {error.Message}");
        ExpectMessage(error, "closed the connection", "middle of a reply", peer.Address);
    }

    [Fact]
    public async Task Command_WhenPeerClosesWithoutAnswering_FailsWithConnectionError()
    {
        // Given: a peer that reads the command and hangs up
        await using var peer = new FakePeer(async (connection, _) =>
        {
            if (await connection.ReadCommandAnsweringPingsAsync() is null)
            {
                return;
            }

            connection.Close();
        });
        await using var redis = await RedisClient.ConnectAsync(OptionsFor(peer)).WaitAsync(NoHang);

        // When
        var error = await CaptureAsync(redis.ExecuteAsync(Get("k")), "GET to a peer that hangs up");

        // Then
        ExpectType<RedisConnectionException>(error);
        ExpectMessage(error, "GET k", "closed the connection", "may or may not have run", peer.Address);
    }

    [Fact]
    public async Task Command_WhenPeerNeverAnswers_FailsWithTimeoutAfterTheCommandTimeout()
    {
        // Given: a peer that reads the command and stays silent
        await using var peer = new FakePeer(async (connection, _) =>
        {
            if (await connection.ReadCommandAnsweringPingsAsync() is null)
            {
                return;
            }

            await connection.WaitForEndAsync();
        });
        await using var redis = await RedisClient.ConnectAsync(OptionsFor(peer)).WaitAsync(NoHang);
        var clock = Stopwatch.StartNew();

        // When
        var error = await CaptureAsync(redis.ExecuteAsync(Get("k")), "GET to a silent peer");

        // Then
        ExpectType<RedisTimeoutException>(error);
        ExpectMessage(error, "did not answer", "GET k", "command timeout 1000 ms", peer.Address);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(900),
            $"Expected the timeout to come after about the 1000 ms command timeout, not after {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Connect_WhenPeerAcceptsButNeverAnswersTheHandshake_FailsWithConnectTimeout()
    {
        // Given: a peer that accepts TCP and never says anything. The command timeout is longer than
        // the connect timeout so that the connect timeout is the one that governs the handshake.
        await using var peer = new FakePeer((connection, _) => connection.WaitForEndAsync());
        var options = OptionsFor(peer);
        options.CommandTimeout = TimeSpan.FromSeconds(3);
        var clock = Stopwatch.StartNew();

        // When
        var error = await CaptureAsync(RedisClient.ConnectAsync(options), "connecting to a peer that never answers the handshake");

        // Then
        ExpectType<RedisConnectionException>(error);
        ExpectMessage(error, "connect timeout", "1000 ms", peer.Address);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2.5),
            $"Expected the 1 s connect timeout to end the handshake, not the 3 s command timeout; it took {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Connect_WhenCommandTimeoutIsShorterThanConnectTimeout_HandshakeStillFailsAsConnectTimeout()
    {
        // Given: a silent peer, and a command timeout shorter than the connect timeout. The options
        // say ConnectTimeout is the "longest wait for a TCP (and TLS) connection and its handshake",
        // and a failed connect is documented to be a RedisConnectionException naming the server.
        await using var peer = new FakePeer((connection, _) => connection.WaitForEndAsync());
        var options = OptionsFor(peer);
        options.CommandTimeout = TimeSpan.FromMilliseconds(300);

        // When
        var error = await CaptureAsync(RedisClient.ConnectAsync(options), "connecting to a peer that never answers the handshake");

        // Then
        ExpectType<RedisConnectionException>(error);
        ExpectMessage(error, "connect timeout", peer.Address);
    }

    [Fact]
    public async Task Connect_WhenNothingListens_FailsWithConnectionErrorNamingTheAddress()
    {
        // Given: a port that was free a moment ago and has no listener now
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var options = new RedisOptions { ConnectTimeout = ShortTimeout, CommandTimeout = ShortTimeout };
        options.Endpoints.Add(new RedisEndpoint("127.0.0.1", port));

        // When
        var error = await CaptureAsync(RedisClient.ConnectAsync(options), "connecting to a closed port");

        // Then
        ExpectType<RedisConnectionException>(error);
        ExpectMessage(error, "Could not connect", $"127.0.0.1:{port}");
    }

    [Fact]
    public async Task Client_AfterAProtocolError_ReconnectsByItselfAndLaterCommandsSucceed()
    {
        // Given: the first connection answers GET with garbage; later connections behave
        await using var peer = new FakePeer(async (connection, index) =>
        {
            if (index == 0)
            {
                if (await connection.ReadCommandAnsweringPingsAsync() is null)
                {
                    return;
                }

                await connection.SendAsync("?garbage\r\n");
                await connection.WaitForEndAsync();
                return;
            }

            await connection.BehaveAsync();
        });
        var options = OptionsFor(peer);
        options.MaxReconnectBackoff = TimeSpan.FromMilliseconds(200);
        await using var redis = await RedisClient.ConnectAsync(options).WaitAsync(NoHang);
        var broken = await CaptureAsync(redis.ExecuteAsync(Get("k")), "GET answered with garbage");
        ExpectType<RedisProtocolException>(broken);

        // When: the caller just keeps issuing commands
        var value = await Eventually.GetAsync(
            async () => (await redis.ExecuteAsync(Get("k")).WaitAsync(NoHang)).AsString(),
            v => v == "hello",
            TimeSpan.FromSeconds(3),
            "GET to succeed on a fresh connection after the protocol error");

        // Then
        Assert.True(value == "hello", $"Expected the reconnected GET to return \"hello\" but got \"{value}\"");
        Assert.True(peer.Accepted == 2, $"Expected exactly one reconnect (2 connections accepted) but the peer saw {peer.Accepted}");
    }

    [Fact]
    public async Task Commands_WhenPeerDropsTheConnectionWith50InFlight_AllFailPromptlyWithConnectionError()
    {
        // Given: a peer that waits until all 50 commands have arrived, then hangs up without answering
        const int inFlight = 50;
        await using var peer = new FakePeer(async (connection, _) =>
        {
            for (var received = 0; received < inFlight; received++)
            {
                if (await connection.ReadCommandAnsweringPingsAsync() is null)
                {
                    return;
                }
            }

            connection.Close();
        });
        await using var redis = await RedisClient.ConnectAsync(OptionsFor(peer)).WaitAsync(NoHang);
        var clock = Stopwatch.StartNew();

        // When
        var commands = Enumerable.Range(0, inFlight).Select(i => redis.ExecuteAsync(Get($"k{i}"))).ToArray();
        var errors = await Task.WhenAll(commands.Select((c, i) => CaptureAsync(c, $"GET k{i} of {inFlight} in flight")));

        // Then
        var wrong = errors.Where(e => e.GetType() != typeof(RedisConnectionException) || !e.Message.Contains("closed the connection", StringComparison.Ordinal)).ToList();
        Assert.True(wrong.Count == 0,
            $"Expected all {inFlight} commands to fail with RedisConnectionException saying the connection closed, but {wrong.Count} did not, e.g. {wrong.FirstOrDefault()?.GetType().Name}: {wrong.FirstOrDefault()?.Message}");
        Assert.True(clock.Elapsed < ShortTimeout,
            $"Expected the in-flight commands to fail as soon as the peer hung up, before the 1 s command timeout, but it took {clock.ElapsedMilliseconds} ms");
    }

    // ----- helpers -----

    private static RedisCommand Get(string key) => new("GET", [key], keyIndex: 0);

    private static RedisOptions OptionsFor(FakePeer peer)
    {
        var options = new RedisOptions { ConnectTimeout = ShortTimeout, CommandTimeout = ShortTimeout };
        options.Endpoints.Add(peer.Endpoint);
        return options;
    }

    /// <summary>Awaits a task that must fail, within <see cref="NoHang"/>; returns its exception.</summary>
    private static async Task<Exception> CaptureAsync<T>(Task<T> task, string what)
    {
        try
        {
            var result = await task.WaitAsync(NoHang);
            if (result is IAsyncDisposable unexpected)
            {
                await unexpected.DisposeAsync();
            }

            Assert.Fail($"Expected {what} to fail, but it returned {result}");
            throw new UnreachableException();
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Expected {what} to fail within {NoHang.TotalSeconds:0} s, but it hung");
            throw new UnreachableException();
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            return e;
        }
    }

    private static void ExpectType<T>(Exception error) where T : Exception =>
        Assert.True(error.GetType() == typeof(T), $"Expected {typeof(T).Name} but got {error.GetType().Name}: {error.Message}");

    private static void ExpectMessage(Exception error, params string[] fragments)
    {
        foreach (var fragment in fragments)
        {
            Assert.True(error.Message.Contains(fragment, StringComparison.Ordinal),
                $"Expected the {error.GetType().Name} message to mention \"{fragment}\" but it said: {error.Message}");
        }
    }

    /// <summary>A TCP listener on 127.0.0.1, port 0, that runs a script for every accepted connection.</summary>
    private sealed class FakePeer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly Func<PeerConnection, int, Task> _script;
        private readonly CancellationTokenSource _stop = new();
        private readonly List<PeerConnection> _connections = [];
        private readonly List<Task> _running = [];
        private readonly Task _acceptLoop;
        private int _accepted;

        public FakePeer(Func<PeerConnection, int, Task> script)
        {
            _script = script;
            _listener.Start();
            Endpoint = new RedisEndpoint("127.0.0.1", ((IPEndPoint)_listener.LocalEndpoint).Port);
            _acceptLoop = AcceptLoopAsync();
        }

        public RedisEndpoint Endpoint { get; }

        public string Address => Endpoint.ToString();

        public int Accepted => Volatile.Read(ref _accepted);

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            lock (_connections)
            {
                foreach (var connection in _connections)
                {
                    connection.Close();
                }
            }

            await _acceptLoop;
            Task[] running;
            lock (_connections)
            {
                running = [.. _running];
            }

            await Task.WhenAll(running);
            _listener.Dispose();
            _stop.Dispose();
        }

        private async Task AcceptLoopAsync()
        {
            try
            {
                while (true)
                {
                    var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    var index = Interlocked.Increment(ref _accepted) - 1;
                    var connection = new PeerConnection(client, _stop.Token);
                    lock (_connections)
                    {
                        _connections.Add(connection);
                        _running.Add(RunAsync(connection, index));
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }

        private async Task RunAsync(PeerConnection connection, int index)
        {
            try
            {
                await _script(connection, index);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away or the peer is stopping: nothing left to do for this connection.
            }
        }
    }

    /// <summary>One accepted connection: reads RESP command arrays and writes raw bytes.</summary>
    private sealed class PeerConnection
    {
        private readonly TcpClient _client;
        private readonly CancellationToken _stop;
        private readonly NetworkStream _stream;
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;
        private int _closed;

        public PeerConnection(TcpClient client, CancellationToken stop)
        {
            _client = client;
            _stop = stop;
            _stream = client.GetStream();
        }

        /// <summary>Reads commands, answering each PING with +PONG; returns the first other command, or null at end of stream.</summary>
        public async Task<string[]?> ReadCommandAnsweringPingsAsync()
        {
            while (await ReadCommandAsync() is { } command)
            {
                if (!command[0].Equals("PING", StringComparison.OrdinalIgnoreCase))
                {
                    return command;
                }

                await SendAsync("+PONG\r\n");
            }

            return null;
        }

        /// <summary>Answers like a well-behaved server would for this test: PING, GET (always "hello"), anything else +OK.</summary>
        public async Task BehaveAsync()
        {
            while (await ReadCommandAsync() is { } command)
            {
                await SendAsync(command[0].ToUpperInvariant() switch
                {
                    "PING" => "+PONG\r\n",
                    "GET" => "$5\r\nhello\r\n",
                    _ => "+OK\r\n",
                });
            }
        }

        public async Task SendAsync(string latin1)
        {
            await _stream.WriteAsync(Encoding.Latin1.GetBytes(latin1), _stop);
            await _stream.FlushAsync(_stop);
        }

        /// <summary>Reads and discards everything until the client closes (or the peer stops).</summary>
        public async Task WaitForEndAsync()
        {
            while (await _stream.ReadAsync(_buffer, _stop) > 0)
            {
                _start = _end = 0;
            }
        }

        public void Close()
        {
            if (Interlocked.Exchange(ref _closed, 1) != 0)
            {
                return;
            }

            try
            {
                _client.Client.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Already closed.
            }

            _client.Dispose();
        }

        private async Task<string[]?> ReadCommandAsync()
        {
            var header = await ReadLineAsync();
            if (header is null)
            {
                return null;
            }

            if (header.Length < 2 || header[0] != '*')
            {
                throw new InvalidDataException($"The fake peer expected a command array but read \"{header}\".");
            }

            var parts = new string[int.Parse(header.AsSpan(1), CultureInfo.InvariantCulture)];
            for (var i = 0; i < parts.Length; i++)
            {
                var length = await ReadLineAsync() ?? throw new IOException("The client closed in the middle of a command.");
                var size = int.Parse(length.AsSpan(1), CultureInfo.InvariantCulture);
                while (_end - _start < size + 2)
                {
                    if (!await FillAsync())
                    {
                        throw new IOException("The client closed in the middle of a command.");
                    }
                }

                parts[i] = Encoding.UTF8.GetString(_buffer, _start, size);
                _start += size + 2;
            }

            return parts;
        }

        private async Task<string?> ReadLineAsync()
        {
            while (true)
            {
                var end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
                if (end >= 0)
                {
                    var line = Encoding.ASCII.GetString(_buffer, _start, end);
                    _start += end + 2;
                    return line;
                }

                if (!await FillAsync())
                {
                    return null;
                }
            }
        }

        private async Task<bool> FillAsync()
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            var read = await _stream.ReadAsync(_buffer.AsMemory(_end), _stop);
            _end += read;
            return read > 0;
        }
    }
}
