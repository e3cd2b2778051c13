<?php

use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/wallet.php';

class ExitTest extends TestCase
{
    public function testABefore()
    {
        $this->assertSame(0, (new Wallet())->balance());
    }

    public function testBExits()
    {
        (new Wallet())->quit();
    }

    public function testCAfter()
    {
        $this->assertTrue(true);
    }
}
