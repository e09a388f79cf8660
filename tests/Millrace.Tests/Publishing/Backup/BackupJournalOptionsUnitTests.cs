using Microsoft.Extensions.Configuration;

namespace Millrace.Tests.Publishing.Backup;

/// <summary>The backup journal's settings: bound from configuration, checked at start with errors that name the setting.</summary>
public sealed class BackupJournalOptionsUnitTests
{
    [Fact]
    public void Given_a_Millrace_BackupJournal_section_When_bound_Then_every_setting_arrives()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Millrace:BackupJournal:Directory"] = "/var/lib/orders/journal",
            ["Millrace:BackupJournal:MaxBytes"] = "1048576",
            ["Millrace:BackupJournal:ReplayInterval"] = "00:00:02",
            ["Millrace:BackupJournal:ReplayBatchSize"] = "100",
            ["Millrace:BackupJournal:ReplayDedupTtl"] = "06:00:00",
            ["Millrace:BackupJournal:AmbiguousFailure"] = "Throw",
        }).Build();
        var options = new MillraceOptions();

        MillraceConfiguration.Bind(configuration, options);

        var journal = Assert.IsType<BackupJournalOptions>(options.BackupJournal);
        Assert.Equal(
            ("/var/lib/orders/journal", 1048576L, TimeSpan.FromSeconds(2), 100, TimeSpan.FromHours(6), AmbiguousPublishFailure.Throw),
            (journal.Directory, journal.MaxBytes, journal.ReplayInterval, journal.ReplayBatchSize, journal.ReplayDedupTtl, journal.AmbiguousFailure));
    }

    [Fact]
    public void Given_no_backup_journal_When_validated_Then_the_defaults_pass_and_it_stays_off()
    {
        var options = new MillraceOptions();

        Assert.True(new MillraceOptionsValidator().Validate(null, options).Succeeded);
        Assert.Null(options.BackupJournal);
        var defaults = new BackupJournalOptions { Directory = "/tmp/j" };
        Assert.Equal((256L * 1024 * 1024, TimeSpan.FromSeconds(1), 256, AmbiguousPublishFailure.Journal), (defaults.MaxBytes, defaults.ReplayInterval, defaults.ReplayBatchSize, defaults.AmbiguousFailure));
    }

    [Fact]
    public void Given_bad_backup_journal_settings_When_validated_Then_each_failure_names_its_setting()
    {
        var options = new MillraceOptions
        {
            BackupJournal = new BackupJournalOptions { Directory = " ", MaxBytes = 1000, ReplayInterval = TimeSpan.Zero, ReplayBatchSize = 0, ReplayDedupTtl = TimeSpan.Zero },
        };

        var result = new MillraceOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Contains("Millrace:BackupJournal:Directory is empty; give the directory the journal is kept in (one per process).", failures);
        Assert.Contains("Millrace:BackupJournal:MaxBytes is 1000; it must be at least 65536.", failures);
        Assert.Contains(failures, f => f.StartsWith("Millrace:BackupJournal:ReplayInterval is 00:00:00;", StringComparison.Ordinal));
        Assert.Contains("Millrace:BackupJournal:ReplayBatchSize is 0; allowed 1 to 10000.", failures);
        Assert.Contains(failures, f => f.StartsWith("Millrace:BackupJournal:ReplayDedupTtl is 00:00:00;", StringComparison.Ordinal));
    }

    [Fact]
    public void Given_a_journal_smaller_than_one_largest_message_When_validated_Then_it_is_refused()
    {
        var options = new MillraceOptions { MaxPayloadBytes = 1024 * 1024, BackupJournal = new BackupJournalOptions { Directory = "/tmp/j", MaxBytes = 512 * 1024 } };

        var result = new MillraceOptionsValidator().Validate(null, options);

        Assert.Contains(result.Failures!, f => f.StartsWith("Millrace:BackupJournal:MaxBytes is 524288, below one largest message", StringComparison.Ordinal));
    }
}
