<?php

use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/wallet.php';

class WalletHiddenTest extends TestCase
{
    public function testSplitKeepsEveryCent()
    {
        $w = new Wallet();
        $w->deposit(100);
        $this->assertSame(100, array_sum($w->split(3)));
    }

    public function testUndefinedFunction()
    {
        $this->assertSame(1, wallet_missing_function());
    }
}
