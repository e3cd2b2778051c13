<?php

use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/wallet.php';

class WalletTest extends TestCase
{
    public function testDeposit()
    {
        $w = new Wallet();
        $w->deposit(250);
        $this->assertSame(250, $w->balance());
    }

    public function testRejectsZero()
    {
        $this->expectException(InvalidArgumentException::class);
        (new Wallet())->deposit(0);
    }

    /**
     * @dataProvider cents
     */
    public function testFormat($cents, $text)
    {
        $this->assertSame($text, format_cents($cents));
    }

    public static function cents()
    {
        return [[5, '0.05'], [1234, '12.34']];
    }

    public function testIncomplete()
    {
        $this->markTestIncomplete('later');
    }
}
