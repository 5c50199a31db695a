-- Daily OHLCV bars rolled up from intraday candles (seed 2's market_data.ohlcv_daily).
--
-- Created by the post-provision hooks only where the TimescaleDB edition has continuous
-- aggregates (the Community edition; not Debian's Apache edition), with the refresh policy
-- the environment spec gives. Written to Timescale's documented syntax (TimescaleDB 2.13+).
--
-- Which rows feed it: intraday timeframes only, and each separately. A day of 1m bars and the
-- same day of 5m bars describe the same trades, so summing them together would count the
-- volume twice; daily, weekly and monthly bars are already a day or longer, and bucketing a
-- weekly bar into the day it starts on would be wrong. So there is one row per asset, source
-- timeframe and UTC day: a reader takes the finest timeframe it has for an asset (usually 1m).
-- vwap is weighted by the volume of the bars that have one, not seed 2's plain average of vwaps.
CREATE MATERIALIZED VIEW market_data.candles_daily
WITH (timescaledb.continuous) AS
SELECT
    asset_key,
    timeframe,
    time_bucket(INTERVAL '1 day', ts) AS day,
    first(open, ts) AS open,
    max(high) AS high,
    min(low) AS low,
    last(close, ts) AS close,
    sum(volume) AS volume,
    sum(vwap * volume) / NULLIF(sum(CASE WHEN vwap IS NOT NULL THEN volume END), 0) AS vwap,
    sum(trades_count) AS trades_count
FROM market_data.candles
WHERE timeframe IN ('1m', '5m', '15m', '30m', '1h', '4h')
GROUP BY asset_key, timeframe, time_bucket(INTERVAL '1 day', ts)
WITH NO DATA;
