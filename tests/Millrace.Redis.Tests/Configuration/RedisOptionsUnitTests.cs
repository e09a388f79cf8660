using System.Diagnostics;

namespace Millrace.Redis.Tests.Configuration;

/// <summary>RedisOptions.Parse, FromEnvironment, Validate, ToString and RedisEndpoint.Parse.</summary>
public sealed class RedisOptionsUnitTests
{
    private const string Secret = "hunter2-Secret!";

    // ----- addresses -----

    [Fact]
    public void Parse_GivenOneAddress_HasThatEndpointAndStandaloneDefaults()
    {
        // Given / When
        var options = RedisOptions.Parse("10.0.0.5:6380");

        // Then
        ExpectEndpoints(options, "10.0.0.5:6380");
        Expect(RedisMode.Standalone, options.Mode, "mode");
        Expect(RedisProtocol.Resp2, options.Protocol, "protocol");
        Expect(0, options.Database, "database");
        Expect(false, options.Tls, "tls");
    }

    [Fact]
    public void Parse_GivenSeveralAddressesWithSpaces_KeepsThemInOrder()
    {
        // Given / When
        var options = RedisOptions.Parse(" a:7000 , b:7001,c ,[::1]:7002 ");

        // Then
        ExpectEndpoints(options, "a:7000", "b:7001", "c:6379", "[::1]:7002");
    }

    [Fact]
    public void Parse_GivenAddressWithoutPort_UsesPort6379()
    {
        // Given / When
        var options = RedisOptions.Parse("redis-host");

        // Then
        ExpectEndpoints(options, "redis-host:6379");
    }

    [Fact]
    public void Parse_GivenBadPortInAddress_ThrowsNamingTheAddress()
    {
        ExpectConfigError(() => RedisOptions.Parse("good:1,bad:port"), "bad:port", "1 to 65535");
    }

    // ----- every key -----

    [Theory]
    [InlineData("mode=standalone", RedisMode.Standalone)]
    [InlineData("mode=single", RedisMode.Standalone)]
    [InlineData("mode=sentinel,serviceName=m", RedisMode.Sentinel)]
    [InlineData("mode=CLUSTER", RedisMode.Cluster)]
    public void Parse_GivenMode_SetsIt(string setting, RedisMode expected)
    {
        // Given / When
        var options = RedisOptions.Parse("h:1," + setting);

        // Then
        Expect(expected, options.Mode, $"mode from '{setting}'");
    }

    [Fact]
    public void Parse_GivenUserAndPassword_SetsBoth()
    {
        // Given / When
        var options = RedisOptions.Parse($"h:1,user=app,password={Secret}");

        // Then
        Expect("app", options.User, "user");
        Expect(Secret, options.Password, "password");
    }

    [Fact]
    public void Parse_GivenPasswordContainingEquals_KeepsEverythingAfterTheFirstEquals()
    {
        // Given / When
        var options = RedisOptions.Parse("h:1,password=a=b==");

        // Then
        Expect("a=b==", options.Password, "password");
    }

    [Fact]
    public void Parse_GivenSentinelPassword_SetsIt()
    {
        // Given / When
        var options = RedisOptions.Parse($"h:1,serviceName=m,sentinelPassword={Secret}");

        // Then
        Expect(Secret, options.SentinelPassword, "sentinel password");
    }

    [Theory]
    [InlineData("serviceName")]
    [InlineData("masterName")]
    public void Parse_GivenServiceNameWithoutMode_ImpliesSentinel(string key)
    {
        // Given / When
        var options = RedisOptions.Parse($"s1:26379,s2:26379,{key}=mymaster");

        // Then
        Expect("mymaster", options.MasterName, "master name");
        Expect(RedisMode.Sentinel, options.Mode, $"mode implied by {key}");
    }

    [Fact]
    public void Parse_GivenServiceNameAndExplicitMode_KeepsTheExplicitMode()
    {
        // Given / When
        var options = RedisOptions.Parse("h:1,mode=standalone,serviceName=mymaster");

        // Then
        Expect(RedisMode.Standalone, options.Mode, "mode set explicitly alongside serviceName");
    }

    [Theory]
    [InlineData("database=3", 3)]
    [InlineData("defaultDatabase=7", 7)]
    [InlineData("DATABASE=0", 0)]
    public void Parse_GivenDatabase_SetsIt(string setting, int expected)
    {
        // Given / When
        var options = RedisOptions.Parse("h:1," + setting);

        // Then
        Expect(expected, options.Database, $"database from '{setting}'");
    }

    [Theory]
    [InlineData("tls=true", true)]
    [InlineData("ssl=True", true)]
    [InlineData("tls=1", true)]
    [InlineData("tls=yes", true)]
    [InlineData("tls=on", true)]
    [InlineData("tls=false", false)]
    [InlineData("ssl=0", false)]
    [InlineData("tls=no", false)]
    [InlineData("tls=off", false)]
    public void Parse_GivenTls_SetsIt(string setting, bool expected)
    {
        // Given / When
        var options = RedisOptions.Parse("h:1," + setting);

        // Then
        Expect(expected, options.Tls, $"tls from '{setting}'");
    }

    [Theory]
    [InlineData("tlsCaFile")]
    [InlineData("sslCaFile")]
    public void Parse_GivenCaFile_SetsIt(string key)
    {
        // Given / When
        var options = RedisOptions.Parse($"h:1,{key}=/etc/ca.pem");

        // Then
        Expect("/etc/ca.pem", options.TlsCaFile, "TLS CA file");
    }

    [Theory]
    [InlineData("tlsHost")]
    [InlineData("sslHost")]
    public void Parse_GivenTlsHost_SetsIt(string key)
    {
        // Given / When
        var options = RedisOptions.Parse($"h:1,{key}=redis.example.com");

        // Then
        Expect("redis.example.com", options.TlsHost, "TLS host");
    }

    [Theory]
    [InlineData("name")]
    [InlineData("clientName")]
    public void Parse_GivenClientName_SetsIt(string key)
    {
        // Given / When
        var options = RedisOptions.Parse($"h:1,{key}=worker-1");

        // Then
        Expect("worker-1", options.ClientName, "client name");
    }

    [Theory]
    [InlineData("protocol=resp3", RedisProtocol.Resp3)]
    [InlineData("protocol=3", RedisProtocol.Resp3)]
    [InlineData("protocol=RESP2", RedisProtocol.Resp2)]
    [InlineData("protocol=2", RedisProtocol.Resp2)]
    public void Parse_GivenProtocol_SetsIt(string setting, RedisProtocol expected)
    {
        // Given / When
        var options = RedisOptions.Parse("h:1," + setting);

        // Then
        Expect(expected, options.Protocol, $"protocol from '{setting}'");
    }

    [Fact]
    public void Parse_GivenBlockingConnections_SetsIt()
    {
        // Given / When
        var options = RedisOptions.Parse("h:1,blockingConnections=4");

        // Then
        Expect(4, options.BlockingConnections, "blocking connections");
    }

    [Fact]
    public void Parse_GivenKeysInAnyCase_AcceptsThem()
    {
        // Given / When
        var options = RedisOptions.Parse("h:1,PASSWORD=x,ClientName=n,ConnectTimeout=2s");

        // Then
        Expect("x", options.Password, "password from PASSWORD=");
        Expect("n", options.ClientName, "client name from ClientName=");
        Expect(TimeSpan.FromSeconds(2), options.ConnectTimeout, "connect timeout from ConnectTimeout=");
    }

    // ----- durations -----

    [Theory]
    [InlineData("5000", 5000)]
    [InlineData("500ms", 500)]
    [InlineData("5s", 5000)]
    [InlineData("1.5s", 1500)]
    [InlineData("00:00:05", 5000)]
    [InlineData("00:01:00", 60000)]
    [InlineData(" 250MS ", 250)]
    public void Parse_GivenConnectTimeout_AcceptsEveryDurationForm(string value, int expectedMs)
    {
        // Given / When
        var options = RedisOptions.Parse($"h:1,connectTimeout={value}");

        // Then
        Expect(TimeSpan.FromMilliseconds(expectedMs), options.ConnectTimeout, $"connect timeout from '{value}'");
    }

    [Theory]
    [InlineData("commandTimeout")]
    [InlineData("syncTimeout")]
    public void Parse_GivenCommandTimeout_SetsIt(string key)
    {
        // Given / When
        var options = RedisOptions.Parse($"h:1,{key}=750ms");

        // Then
        Expect(TimeSpan.FromMilliseconds(750), options.CommandTimeout, $"command timeout from {key}");
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("5m")]
    [InlineData("ms")]
    public void Parse_GivenUnreadableDuration_ThrowsNamingKeyAndForms(string value)
    {
        ExpectConfigError(() => RedisOptions.Parse($"h:1,commandTimeout={value}"), "'commandTimeout'", value, "500ms", "5s");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("0s")]
    [InlineData("-00:00:01")]
    public void Parse_GivenZeroOrNegativeDuration_ThrowsAskingForAPositiveOne(string value)
    {
        ExpectConfigError(() => RedisOptions.Parse($"h:1,connectTimeout={value}"), "'connectTimeout'", "positive");
    }

    [Theory]
    [InlineData("1e20")]
    [InlineData("99999999999999s")]
    [InlineData("infinity")]
    [InlineData("nan")]
    public void Parse_GivenDurationNoTimeSpanCanHold_ThrowsConfigurationError(string value)
    {
        // A value that parses as a number but is out of TimeSpan's range (or NaN) is still a bad
        // setting: the caller must get RedisConfigurationException naming the key, not a raw
        // OverflowException/ArgumentException from TimeSpan.
        ExpectConfigError(() => RedisOptions.Parse($"h:1,connectTimeout={value}"), "'connectTimeout'");
    }

    // ----- bad values and unknown keys -----

    [Theory]
    [InlineData("mode=ring", "'mode'", "standalone, sentinel or cluster")]
    [InlineData("tls=maybe", "'tls'", "true or false")]
    [InlineData("ssl=2", "'ssl'", "true or false")]
    [InlineData("protocol=resp4", "'protocol'", "resp2 or resp3")]
    [InlineData("database=-1", "'database'", "database number")]
    [InlineData("database=one", "'database'", "database number")]
    [InlineData("database=99999999999", "'database'", "database number")]
    [InlineData("blockingConnections=0", "'blockingConnections'", "at least 1")]
    [InlineData("blockingConnections=many", "'blockingConnections'", "at least 1")]
    public void Parse_GivenBadValue_ThrowsNamingKeyValueAndAllowedValues(string setting, string key, string allowed)
    {
        var value = setting[(setting.IndexOf('=', StringComparison.Ordinal) + 1)..];
        ExpectConfigError(() => RedisOptions.Parse("h:1," + setting), key, $"'{value}'", allowed);
    }

    [Fact]
    public void Parse_GivenUnknownKey_ThrowsNamingItAndListingKnownKeys()
    {
        ExpectConfigError(() => RedisOptions.Parse("h:1,timeout=5"), "'timeout'", "connectTimeout", "commandTimeout", "password");
    }

    [Fact]
    public void Parse_GivenMisspelledPasswordKey_DoesNotEchoTheValue()
    {
        var error = ExpectConfigError(() => RedisOptions.Parse($"h:1,pasword={Secret}"), "'pasword'");
        ExpectNoSecret(error.Message, "the unknown-key error");
    }

    // ----- URIs -----

    [Fact]
    public void Parse_GivenRedisUriWithUserPasswordPortAndDatabase_ReadsEveryPart()
    {
        // Given / When
        var options = RedisOptions.Parse($"redis://app:{Secret}@cache.internal:6380/2");

        // Then
        ExpectEndpoints(options, "cache.internal:6380");
        Expect("app", options.User, "user");
        Expect(Secret, options.Password, "password");
        Expect(2, options.Database, "database");
        Expect(false, options.Tls, "tls for redis://");
    }

    [Fact]
    public void Parse_GivenRedissUri_TurnsTlsOn()
    {
        // Given / When
        var options = RedisOptions.Parse("rediss://cache.internal");

        // Then
        Expect(true, options.Tls, "tls for rediss://");
        ExpectEndpoints(options, "cache.internal:6379");
    }

    [Fact]
    public void Parse_GivenUriWithPasswordOnly_UsesTheDefaultUser()
    {
        // Given / When
        var options = RedisOptions.Parse($"redis://:{Secret}@h:6379");

        // Then
        Expect(null, options.User, "user for redis://:password@");
        Expect(Secret, options.Password, "password");
    }

    [Fact]
    public void Parse_GivenUriWithSingleUserInfoPart_TakesItAsThePassword()
    {
        // Given / When
        var options = RedisOptions.Parse($"redis://{Secret}@h");

        // Then
        Expect(null, options.User, "user for redis://secret@");
        Expect(Secret, options.Password, "password for redis://secret@");
    }

    [Fact]
    public void Parse_GivenUriWithPercentEncodedPassword_DecodesIt()
    {
        // Given / When
        var options = RedisOptions.Parse("redis://app:p%40ss%3Aword@h");

        // Then
        Expect("p@ss:word", options.Password, "decoded password");
    }

    [Fact]
    public void Parse_GivenUriWithIpv6Host_StripsTheBrackets()
    {
        // Given / When
        var options = RedisOptions.Parse("redis://[::1]:6390/1");

        // Then
        ExpectEndpoints(options, "[::1]:6390");
        Expect("::1", options.Endpoints[0].Host, "IPv6 host");
        Expect(1, options.Database, "database");
    }

    [Fact]
    public void Parse_GivenUriWithBadDatabase_ThrowsWithoutEchoingThePassword()
    {
        var error = ExpectConfigError(() => RedisOptions.Parse($"redis://app:{Secret}@h/abc"), "'database'", "'abc'");
        ExpectNoSecret(error.Message, "the bad-database error");
    }

    [Fact]
    public void Parse_GivenInvalidUri_ThrowsWithoutEchoingThePassword()
    {
        var error = ExpectConfigError(() => RedisOptions.Parse($"redis://app:{Secret}@h:99999"), "redis://", "host");
        ExpectNoSecret(error.Message, "the invalid-URI error");
    }

    [Fact]
    public void Parse_GivenInvalidUriWhosePasswordContainsAt_ThrowsWithoutEchoingAnyOfThePassword()
    {
        // Given: an unescaped '@' inside the password, so the URI is not valid
        const string password = "pa55@w0rdTail";

        // When / Then: no fragment of the password (here the part after its '@') may appear
        var error = ExpectConfigError(() => RedisOptions.Parse($"redis://app:{password}@h:6379"), "redis://");
        Assert.True(!error.Message.Contains("w0rdTail", StringComparison.Ordinal) && !error.Message.Contains("pa55", StringComparison.Ordinal),
            $"Expected no part of the password in the error, but it said: {error.Message}");
    }

    // ----- ToString -----

    [Fact]
    public void ToString_GivenPasswords_MasksThem()
    {
        // Given
        var options = RedisOptions.Parse($"h:1,user=app,password={Secret},serviceName=m,sentinelPassword={Secret}x");

        // When
        var text = options.ToString();

        // Then
        ExpectNoSecret(text, "ToString()");
        Assert.True(text.Contains("password=*****", StringComparison.Ordinal) && text.Contains("sentinelPassword=*****", StringComparison.Ordinal),
            $"Expected both passwords shown as ***** but ToString() gave: {text}");
    }

    [Fact]
    public void ToString_GivenUriWithPassword_MasksIt()
    {
        // Given
        var options = RedisOptions.Parse($"rediss://app:{Secret}@h:6380/3");

        // When
        var text = options.ToString();

        // Then
        ExpectNoSecret(text, "ToString()");
        Assert.True(text == "h:6380,user=app,password=*****,database=3,tls=true", $"Expected \"h:6380,user=app,password=*****,database=3,tls=true\" but got \"{text}\"");
    }

    [Fact]
    public void ToString_GivenEverySetting_ReparsesToTheSameNonSecretSettings()
    {
        // Given
        var original = RedisOptions.Parse("a:1,b:2,mode=sentinel,serviceName=m,user=u,database=4,tls=true,name=n,protocol=resp3");

        // When
        var reparsed = RedisOptions.Parse(original.ToString());

        // Then
        Assert.True(reparsed.ToString() == original.ToString()
                && reparsed.Mode == RedisMode.Sentinel && reparsed.MasterName == "m" && reparsed.User == "u"
                && reparsed.Database == 4 && reparsed.Tls && reparsed.ClientName == "n" && reparsed.Protocol == RedisProtocol.Resp3,
            $"Expected ToString() to round-trip through Parse but got \"{original}\" then \"{reparsed}\"");
    }

    // ----- FromEnvironment -----

    [Fact]
    public void FromEnvironment_GivenNoRedisAddrs_ReturnsNull()
    {
        // Given
        var variables = Env(("REDIS_MODE", "cluster"), ("REDIS_PASSWORD", Secret));

        // When
        var options = RedisOptions.FromEnvironment(variables);

        // Then
        Assert.True(options is null, $"Expected null when REDIS_ADDRS is unset but got {options}");
    }

    [Fact]
    public void FromEnvironment_GivenBlankRedisAddrs_ReturnsNull()
    {
        // Given / When
        var options = RedisOptions.FromEnvironment(Env(("REDIS_ADDRS", "  ")));

        // Then
        Assert.True(options is null, $"Expected null when REDIS_ADDRS is blank but got {options}");
    }

    [Fact]
    public void FromEnvironment_GivenAddrsOnly_ReturnsStandaloneWithThoseEndpoints()
    {
        // Given / When
        var options = RedisOptions.FromEnvironment(Env(("REDIS_ADDRS", "r1:6379, r2:6380")))!;

        // Then
        ExpectEndpoints(options, "r1:6379", "r2:6380");
        Expect(RedisMode.Standalone, options.Mode, "mode");
        Expect(null, options.Password, "password");
    }

    [Fact]
    public void FromEnvironment_GivenSentinelVariables_SetsModeMasterAndCredentials()
    {
        // Given
        var variables = Env(
            ("REDIS_ADDRS", "s1:26379,s2:26379,s3:26379"),
            ("REDIS_MODE", "sentinel"),
            ("REDIS_MASTER_NAME", "mymaster"),
            ("REDIS_USERNAME", "app"),
            ("REDIS_PASSWORD", Secret),
            ("REDIS_TLS", "true"));

        // When
        var options = RedisOptions.FromEnvironment(variables)!;

        // Then
        ExpectEndpoints(options, "s1:26379", "s2:26379", "s3:26379");
        Expect(RedisMode.Sentinel, options.Mode, "mode from REDIS_MODE");
        Expect("mymaster", options.MasterName, "master name from REDIS_MASTER_NAME");
        Expect("app", options.User, "user from REDIS_USERNAME");
        Expect(Secret, options.Password, "password from REDIS_PASSWORD");
        Expect(true, options.Tls, "tls from REDIS_TLS");
    }

    [Fact]
    public void FromEnvironment_GivenClusterMode_SetsCluster()
    {
        // Given / When
        var options = RedisOptions.FromEnvironment(Env(("REDIS_ADDRS", "c1:7000"), ("REDIS_MODE", "cluster")))!;

        // Then
        Expect(RedisMode.Cluster, options.Mode, "mode from REDIS_MODE=cluster");
    }

    [Fact]
    public void FromEnvironment_GivenInvalidMode_ThrowsNamingTheVariableAndAllowedValues()
    {
        ExpectConfigError(
            () => RedisOptions.FromEnvironment(Env(("REDIS_ADDRS", "h:1"), ("REDIS_MODE", "ring"))),
            "REDIS_MODE", "'ring'", "standalone, sentinel or cluster");
    }

    [Fact]
    public void FromEnvironment_GivenInvalidTls_ThrowsNamingTheVariable()
    {
        ExpectConfigError(
            () => RedisOptions.FromEnvironment(Env(("REDIS_ADDRS", "h:1"), ("REDIS_TLS", "maybe"))),
            "REDIS_TLS", "true or false");
    }

    [Fact]
    public void FromEnvironment_GivenBadAddress_ThrowsNamingTheAddress()
    {
        ExpectConfigError(() => RedisOptions.FromEnvironment(Env(("REDIS_ADDRS", "h:1,h:notaport"))), "h:notaport");
    }

    // ----- Validate -----

    [Fact]
    public void Validate_GivenNoEndpoints_ThrowsAskingForAnAddress()
    {
        ExpectConfigError(() => new RedisOptions().Validate(), "address", "REDIS_ADDRS");
    }

    [Fact]
    public void Validate_GivenSentinelWithoutMasterName_ThrowsNamingTheSetting()
    {
        // Given
        var options = RedisOptions.Parse("s:26379,mode=sentinel");

        // Then
        ExpectConfigError(options.Validate, "master name", "REDIS_MASTER_NAME");
    }

    [Fact]
    public void Validate_GivenClusterWithNonZeroDatabase_ThrowsExplainingClusterHasOnlyZero()
    {
        // Given
        var options = RedisOptions.Parse("c:7000,mode=cluster,database=2");

        // Then
        ExpectConfigError(options.Validate, "Database is 2", "only has database 0");
    }

    [Fact]
    public void Validate_GivenUserWithoutPassword_ThrowsNamingTheUser()
    {
        // Given
        var options = RedisOptions.Parse("h:1,user=app");

        // Then
        ExpectConfigError(options.Validate, "'app'", "password");
    }

    [Fact]
    public void Validate_GivenNonPositiveTimeout_ThrowsNamingTimeouts()
    {
        // Given
        var options = RedisOptions.Parse("h:1");
        options.CommandTimeout = TimeSpan.Zero;

        // Then
        ExpectConfigError(options.Validate, "commandTimeout", "positive");
    }

    [Fact]
    public void Validate_GivenMissingCaFile_ThrowsNamingTheFile()
    {
        // Given
        var missing = Path.Combine(Path.GetTempPath(), $"millrace-no-such-ca-{Guid.NewGuid():N}.pem");
        var options = RedisOptions.Parse($"h:1,tls=true,tlsCaFile={missing}");

        // Then
        ExpectConfigError(options.Validate, missing, "does not exist");
    }

    [Fact]
    public void Validate_GivenCompleteSentinelSettings_DoesNotThrow()
    {
        // Given
        var options = RedisOptions.Parse($"s1:26379,serviceName=m,user=app,password={Secret},database=1");

        // When
        var error = Record.Exception(options.Validate);

        // Then
        Assert.True(error is null, $"Expected valid Sentinel settings to pass validation but got: {error?.Message}");
    }

    // ----- RedisEndpoint.Parse -----

    [Theory]
    [InlineData("127.0.0.1:6379", "127.0.0.1", 6379)]
    [InlineData("redis.example.com:7000", "redis.example.com", 7000)]
    [InlineData("localhost", "localhost", 6379)]
    [InlineData("  h:1  ", "h", 1)]
    [InlineData("h:65535", "h", 65535)]
    [InlineData("[::1]:6380", "::1", 6380)]
    [InlineData("[::1]", "::1", 6379)]
    [InlineData("[2001:db8::7]:26379", "2001:db8::7", 26379)]
    public void EndpointParse_GivenValidAddress_ReturnsHostAndPort(string text, string host, int port)
    {
        // Given / When
        var endpoint = RedisEndpoint.Parse(text);

        // Then
        Assert.True(endpoint.Host == host && endpoint.Port == port, $"Expected {host} port {port} from '{text}' but got {endpoint.Host} port {endpoint.Port}");
    }

    [Fact]
    public void EndpointParse_GivenCustomDefaultPort_UsesItWhenNoneIsWritten()
    {
        // Given / When
        var endpoint = RedisEndpoint.Parse("sentinel-1", defaultPort: 26379);

        // Then
        Expect(new RedisEndpoint("sentinel-1", 26379), endpoint, "endpoint");
    }

    [Theory]
    [InlineData("[::1]:6380", "[::1]:6380")]
    [InlineData("h:1", "h:1")]
    public void EndpointToString_GivenEndpoint_WritesParseableText(string text, string expected)
    {
        // Given
        var endpoint = RedisEndpoint.Parse(text);

        // When
        var written = endpoint.ToString();

        // Then
        Expect(expected, written, "endpoint text");
        Expect(endpoint, RedisEndpoint.Parse(written), "endpoint parsed back from its text");
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("h:", "port ''")]
    [InlineData("h:0", "port '0'")]
    [InlineData("h:65536", "port '65536'")]
    [InlineData("h:-1", "port '-1'")]
    [InlineData("h:abc", "port 'abc'")]
    [InlineData(":6379", "no host")]
    [InlineData("[::1", "without closing")]
    [InlineData("[]:6379", "no host")]
    public void EndpointParse_GivenBadAddress_ThrowsSayingWhatIsWrong(string text, string problem)
    {
        ExpectConfigError(() => RedisEndpoint.Parse(text), problem);
    }

    [Theory]
    [InlineData("::1")]
    [InlineData("2001:db8::1")]
    public void EndpointParse_GivenUnbracketedIpv6_NeverInventsAHostAndPort(string text)
    {
        // Given an IPv6 address without brackets: it must either be read as the host (default port)
        // or be refused with advice to use [brackets], never split at its last colon into a bogus
        // host and port (which would connect somewhere else entirely).
        RedisEndpoint? endpoint = null;
        var error = Record.Exception(() => endpoint = RedisEndpoint.Parse(text));

        // Then
        var asHost = endpoint is not null && endpoint.Host == text && endpoint.Port == 6379;
        var refused = error is RedisConfigurationException && error.Message.Contains('[', StringComparison.Ordinal);
        Assert.True(asHost || refused,
            $"Expected '{text}' to parse as host {text} port 6379, or a RedisConfigurationException that suggests [brackets]; got {(error is null ? $"host '{endpoint?.Host}' port {endpoint?.Port}" : error.GetType().Name + ": " + error.Message)}");
    }

    // ----- helpers -----

    private static Func<string, string?> Env(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        return name => map.TryGetValue(name, out var value) ? value : null;
    }

    private static RedisConfigurationException ExpectConfigError(Action action, params string[] fragments)
    {
        var thrown = Record.Exception(action);
        if (thrown is not RedisConfigurationException error)
        {
            Assert.Fail($"Expected RedisConfigurationException but got {(thrown is null ? "no exception" : thrown.GetType().Name + ": " + thrown.Message)}");
            throw new UnreachableException();
        }

        foreach (var fragment in fragments)
        {
            Assert.True(error.Message.Contains(fragment, StringComparison.Ordinal),
                $"Expected the configuration error to mention \"{fragment}\" but it said: {error.Message}");
        }

        ExpectNoSecret(error.Message, "a configuration error");
        return error;
    }

    private static RedisConfigurationException ExpectConfigError(Func<object?> action, params string[] fragments) =>
        ExpectConfigError(() => { _ = action(); }, fragments);

    private static void ExpectNoSecret(string text, string where) =>
        Assert.True(!text.Contains(Secret, StringComparison.Ordinal) && !text.Contains("hunter2", StringComparison.Ordinal),
            $"Expected the password never to appear in {where}, but it said: {text}");

    private static void ExpectEndpoints(RedisOptions options, params string[] expected)
    {
        var actual = options.Endpoints.Select(e => e.ToString()).ToArray();
        Assert.True(actual.SequenceEqual(expected), $"Expected endpoints [{string.Join(", ", expected)}] but got [{string.Join(", ", actual)}]");
    }

    private static void Expect<T>(T expected, T actual, string what) =>
        Assert.True(EqualityComparer<T>.Default.Equals(expected, actual), $"Expected {what} to be {expected?.ToString() ?? "null"} but it was {actual?.ToString() ?? "null"}");
}
