using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Millrace.Redis;

namespace Millrace;

/// <summary>
/// Replays the backup journal into Redis, in journal order, while it holds records; a hosted
/// service that owns its loop. Each round: read a batch, publish it through the real publisher with
/// every message's dedup key (its own, or <c>journal:&lt;id&gt;</c>), then fsync the checkpoint.
/// What survives a crash at each step:
/// <list type="bullet">
/// <item>before the batch is sent: nothing happened; the restarted process replays it;</item>
/// <item>after Redis added it, before the checkpoint: the restarted process sends it again and the dedup
/// keys make Redis add nothing (within <see cref="BackupJournalOptions.ReplayDedupTtl"/>);</item>
/// <item>after the checkpoint: the batch is done and never read again.</item>
/// </list>
/// When nothing is left the journal is emptied and publishing goes direct again (see
/// <see cref="BackupJournal.TryFinishAsync"/>). Redis errors wait <see cref="BackupJournalOptions.ReplayInterval"/>
/// and retry; a damaged record stops replay with a critical log (never skipped).
/// </summary>
internal sealed partial class BackupJournalReplayer(
    BackupJournal? journal, MessagePublisher redis, MillraceRuntime runtime, BackupJournalOptions? options, ILogger<BackupJournalReplayer> logger)
    : BackgroundService
{
    /// <summary>A batch stops growing past this many bytes of records (large payloads).</summary>
    private const long MaxBatchBytes = 8 * 1024 * 1024;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (journal is null || options is null)
        {
            return;   // no backup journal configured
        }

        try
        {
            await ReplayAsync(journal, options, stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            journal.EndDrain();   // however the loop ends, no publish may stay held back
        }
    }

    private async Task ReplayAsync(BackupJournal journal, BackupJournalOptions options, CancellationToken stoppingToken)
    {
        var interval = options.ReplayInterval;
        long replayed = 0;
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!journal.IsJournaling)
                {
                    await journal.WaitForChangeAsync(TimeSpan.FromMinutes(1), stoppingToken).ConfigureAwait(false);
                    continue;
                }

                var batch = journal.ReadBatch(options.ReplayBatchSize, MaxBatchBytes);
                if (batch.Messages.Count == 0)
                {
                    if (await journal.TryFinishAsync(stoppingToken).ConfigureAwait(false))
                    {
                        Log.CaughtUp(logger, replayed, journal.Path);
                        replayed = 0;
                    }
                    else
                    {
                        // Appends are being written (or just were): look again when they are.
                        await journal.WaitForChangeAsync(interval, stoppingToken).ConfigureAwait(false);
                    }

                    continue;
                }

                await redis.PublishBatchAsync(ForReplay(batch.Messages), stoppingToken).ConfigureAwait(false);
                if (journal.RecordReplayed(batch) <= BackupJournal.DrainBacklogBytes)
                {
                    // Nearly caught up: hold new publishes back for the final rounds so the switch to direct comes.
                    journal.BeginDrain();
                }

                replayed += batch.Messages.Count;
                if (failures > 0)
                {
                    Log.RedisBack(logger, failures, journal.Path);
                    failures = 0;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                journal.EndDrain();
                return;   // shutdown; an unrecorded batch is replayed again by the next process (dedup keys make that safe)
            }
            catch (BackupJournalCorruptException e)
            {
                journal.EndDrain();
                Log.ReplayStopped(logger, e, journal.Path);
                journal.MarkReplayStopped(e.Message);
                return;   // stopped loudly; publishes keep being journaled until the journal is full or the process restarts
            }
            catch (ObjectDisposedException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (PublishFailure.Classify(e, options.ReplayBatchSize) != PublishFailureKind.NotAnOutage)
            {
                journal.EndDrain();
                journal.MarkUnreachable(runtime.Time.GetUtcNow());
                if (failures++ == 0)
                {
                    Log.RedisStillDown(logger, e, journal.Path, journal.State.UnreplayedBytes);
                }

                await Delay(interval, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RedisException or ArgumentException or InvalidOperationException or IOException)
            {
                // Redis refused a record (or the journal file failed): the journal is kept as it is and
                // the batch is tried again; every attempt is logged as an error until it goes through.
                journal.EndDrain();
                Log.ReplayFailed(logger, e, journal.Path, interval);
                await Delay(interval, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    private OutgoingMessage[] ForReplay(IReadOnlyList<OutgoingMessage> messages)
    {
        var replay = new OutgoingMessage[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            replay[i] = message.DedupKey is not null
                ? message
                : message.With(message.Id, message.DeliverAt, JournalingPublisher.ReplayDedupKey(message), options!.ReplayDedupTtl);
        }

        return replay;
    }

    private async Task Delay(TimeSpan interval, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(interval, runtime.Time, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down: the loop ends
        }
    }

    private static partial class Log
    {
        [LoggerMessage(920, LogLevel.Information, "Redis is still unreachable; {Bytes} bytes wait in the backup journal {Path} (retrying every interval)")]
        public static partial void RedisStillDown(ILogger logger, Exception error, string path, long bytes);

        [LoggerMessage(921, LogLevel.Information, "Redis answers again after {Failures} failed replay attempts; replaying the backup journal {Path}")]
        public static partial void RedisBack(ILogger logger, int failures, string path);

        [LoggerMessage(922, LogLevel.Information, "Backup journal {Path} replayed ({Count} messages this round); publishing goes straight to Redis again")]
        public static partial void CaughtUp(ILogger logger, long count, string path);

        [LoggerMessage(923, LogLevel.Critical, "Replay of the backup journal {Path} stopped at a damaged record; nothing after it is replayed or skipped until an operator acts")]
        public static partial void ReplayStopped(ILogger logger, Exception error, string path);

        [LoggerMessage(924, LogLevel.Error, "Replaying the backup journal {Path} failed; the batch stays in the journal and is tried again in {Interval}")]
        public static partial void ReplayFailed(ILogger logger, Exception error, string path, TimeSpan interval);
    }
}
