-- 0007: execution.trades and execution.positions (seed 3).
--
-- Relational records, written per fill and per position change: plain tables with foreign keys
-- everywhere. Seed 3's trade (symbol 'BTC/USDT', exchange 'binance', side 'BUY', quantity,
-- price, strategy_id 'arbitrage-btc-usdt') maps to asset_id (by symbol and exchange), side
-- 'buy', quantity, price and strategy_id (by strategies.name).

CREATE TABLE execution.trades (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    asset_id uuid NOT NULL,
    side execution.trade_side NOT NULL,
    quantity numeric(28, 8) NOT NULL,
    price numeric(20, 8) NOT NULL,
    fee numeric(20, 8) NOT NULL DEFAULT 0,
    fee_currency varchar(10),
    strategy_id uuid,
    user_id uuid,
    exchange_trade_id varchar(100),
    executed_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT trades_pkey PRIMARY KEY (id),
    CONSTRAINT trades_asset_id_fkey FOREIGN KEY (asset_id) REFERENCES market_data.assets (id),
    CONSTRAINT trades_strategy_id_fkey FOREIGN KEY (strategy_id)
        REFERENCES strategies.strategies (id),
    CONSTRAINT trades_user_id_fkey FOREIGN KEY (user_id) REFERENCES accounts.users (id),
    -- The exchange's own trade id, unique per venue (an asset is a symbol on one venue): a
    -- fill fetched twice is stored once. Also the index the asset_id foreign key needs.
    CONSTRAINT trades_asset_id_exchange_trade_id_key UNIQUE (asset_id, exchange_trade_id),
    CONSTRAINT trades_quantity_check CHECK (quantity > 0),
    CONSTRAINT trades_price_check CHECK (price > 0),
    CONSTRAINT trades_fee_check CHECK (fee >= 0)
);
COMMENT ON TABLE execution.trades IS 'Executed trades (fills) (seed 3).';
COMMENT ON COLUMN execution.trades.strategy_id IS 'NULL for a manual trade.';
COMMENT ON COLUMN execution.trades.user_id IS 'NULL until trades are per user (seed 3: users are a future implementation).';

-- The trade blotter: recent trades, newest first, any asset.
CREATE INDEX trades_executed_at_idx ON execution.trades (executed_at);
-- A strategy's trades over time (performance); also the index its foreign key needs.
CREATE INDEX trades_strategy_id_executed_at_idx ON execution.trades (strategy_id, executed_at)
    WHERE strategy_id IS NOT NULL;
-- A user's trades over time; also the index its foreign key needs.
CREATE INDEX trades_user_id_executed_at_idx ON execution.trades (user_id, executed_at)
    WHERE user_id IS NOT NULL;

CREATE TABLE execution.positions (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    asset_id uuid NOT NULL,
    strategy_id uuid,
    user_id uuid,
    quantity numeric(28, 8) NOT NULL DEFAULT 0,
    average_price numeric(20, 8),
    realized_pnl numeric(20, 8) NOT NULL DEFAULT 0,
    opened_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT positions_pkey PRIMARY KEY (id),
    CONSTRAINT positions_asset_id_fkey FOREIGN KEY (asset_id) REFERENCES market_data.assets (id),
    CONSTRAINT positions_strategy_id_fkey FOREIGN KEY (strategy_id)
        REFERENCES strategies.strategies (id),
    CONSTRAINT positions_user_id_fkey FOREIGN KEY (user_id) REFERENCES accounts.users (id),
    -- One current position per holder (user, strategy, both or neither) and asset; the upsert
    -- key of whatever applies fills. Also serves a user's positions and the user_id key.
    CONSTRAINT positions_user_id_strategy_id_asset_id_key
        UNIQUE NULLS NOT DISTINCT (user_id, strategy_id, asset_id),
    CONSTRAINT positions_average_price_check CHECK (average_price > 0),
    CONSTRAINT positions_open_has_price_check CHECK (quantity = 0 OR average_price IS NOT NULL)
);
COMMENT ON TABLE execution.positions IS 'Current positions, one per holder and asset (seed 3).';
COMMENT ON COLUMN execution.positions.quantity IS 'Signed: positive long, negative short, zero flat.';
COMMENT ON COLUMN execution.positions.opened_at IS 'When the current non-zero position was opened; NULL when flat.';

CREATE TRIGGER positions_set_updated_at
    BEFORE UPDATE ON execution.positions
    FOR EACH ROW EXECUTE FUNCTION accounts.set_updated_at();
