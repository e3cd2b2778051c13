<?php

declare(strict_types=1);

/** A wallet of coins (the candidate's solution). */
final class Wallet
{
    private int $cents = 0;

    public function deposit(int $cents): void
    {
        if ($cents <= 0) throw new InvalidArgumentException('positive amounts only');
        $this->cents += $cents;
    }

    public function balance(): int
    {
        return $this->cents;
    }

    /** Wrong on purpose: rounds down. */
    public function split(int $ways): array
    {
        return array_fill(0, $ways, intdiv($this->cents, $ways));
    }

    public function quit(): void
    {
        exit(3);
    }
}

function format_cents(int $cents) : string {
    return sprintf('%d.%02d', intdiv($cents, 100), $cents % 100);
}
